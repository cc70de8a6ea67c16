-- Runs once, when the PostgreSQL volume is first initialised. POSTGRES_DB creates `temporal`; Temporal's
-- visibility store needs a second database. Creating both here (instead of `temporal-sql-tool create`) keeps the
-- schema step idempotent across restarts.
CREATE DATABASE temporal_visibility;
