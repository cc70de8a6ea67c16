package main

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// FerretDB 1.24's PostgreSQL backend pushes an equality filter down as `_jsonb->'field' @> '<value>'`, but indexes
// a field (the `_id` of every collection, and each field of a createIndex call) with a btree on
// `(_jsonb->'field')`, which cannot serve `@>`: every pushed-down query is a sequential scan. A GIN index on the
// same expression serves it, so the triggers of gintwins.sql give each such btree column a GIN twin (and drop it
// with its btree), in the same transaction as FerretDB's own CREATE INDEX or DROP INDEX. Which fields are served
// is thus still decided by the createIndex calls of the application, as on MongoDB.
//
// PostgreSQL matches an expression index only against constants, and FerretDB's statements are prepared with the
// field name as a parameter: the server needs plan_cache_mode=force_custom_plan (scripts/local/postgres.ts sets it).
//
//go:embed gintwins.sql
var ginTwinsSQL string

// installGINTwins installs (or updates) the triggers in the database at url, and twins the indexes of tables
// made before them. The user must be a superuser: only superusers create event triggers.
func installGINTwins(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// The simple protocol runs the whole script as one multi-statement string.
		_, err := tx.Exec(ctx, ginTwinsSQL, pgx.QueryExecModeSimpleProtocol)
		return err
	}); err != nil {
		return fmt.Errorf("installing the GIN index triggers: %w", err)
	}
	return nil
}
