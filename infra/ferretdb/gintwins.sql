-- GIN twins of FerretDB's btree indexes; gintwins.go says why. Run by the launcher at every start, in one
-- transaction: everything here is idempotent, and the functions are replaced by the launcher's current version.
SELECT pg_advisory_xact_lock(hashtext('maskline gin twins'));

CREATE SCHEMA IF NOT EXISTS _maskline;

-- The document path (text[]) that column `col` of an index reads, or NULL when the column is no plain path into
-- _jsonb. FerretDB's btree columns are `_jsonb->'a'->'b'`, deparsed as (((_jsonb -> 'a'::text) -> 'b'::text));
-- a twin reads a nested path as `_jsonb #> '{a,b}'`, deparsed as ((_jsonb #> '{a,b}'::text[])).
CREATE OR REPLACE FUNCTION _maskline.column_path(index_oid oid, col int) RETURNS text[]
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  expr text := pg_get_indexdef(index_oid, col, false);
  m text[];
BEGIN
  m := regexp_match(expr, $re$^\(+_jsonb #> '((?:[^']|'')*)'::text\[\]\)+$$re$);
  IF m IS NOT NULL THEN
    RETURN replace(m[1], '''''', '''')::text[];
  END IF;
  IF expr !~ $re$^\(+_jsonb( -> '(?:[^']|'')*'::text\))+\)*$$re$ THEN
    RETURN NULL;
  END IF;
  RETURN ARRAY(
    SELECT replace(x[1], '''''', '''')
    FROM regexp_matches(expr, $re$'((?:[^']|'')*)'::text$re$, 'g') AS x
  );
END
$fn$;

-- The btree and GIN index columns of a table, with the document path each reads.
CREATE OR REPLACE FUNCTION _maskline.index_paths(tbl oid) RETURNS TABLE (kind name, index_oid oid, path text[])
LANGUAGE sql STABLE AS $fn$
  SELECT am.amname, i.indexrelid, _maskline.column_path(i.indexrelid, k)
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_am am ON am.oid = ic.relam
  CROSS JOIN LATERAL generate_series(1, i.indnkeyatts) AS k
  WHERE i.indrelid = tbl AND am.amname IN ('btree', 'gin')
$fn$;

-- Makes the GIN indexes of one collection table match its btree indexes: one GIN per document path that a btree
-- index has as a column (so a compound btree gets one per field), none for a path no btree has any more.
-- FerretDB itself creates no GIN indexes, so every GIN index on a collection table is a twin. No pending list
-- (fastupdate): with one, every lookup also scans the entries inserted since the last vacuum, and a collection
-- filled faster than autovacuum comes round (a seeded pool, a busy hour of call events) is scanned after all.
CREATE OR REPLACE FUNCTION _maskline.reconcile_twins(tbl oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  t record;
  r record;
BEGIN
  SELECT c.relname, n.nspname INTO t
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = tbl AND c.relkind = 'r' AND c.relname NOT LIKE '\_ferretdb\_%'
    AND EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attname = '_jsonb' AND a.atttypid = 'jsonb'::regtype)
    AND EXISTS (SELECT 1 FROM pg_class m
                WHERE m.relnamespace = n.oid AND m.relname = '_ferretdb_database_metadata');
  IF NOT FOUND THEN
    RETURN;
  END IF;

  FOR r IN
    SELECT DISTINCT w.path FROM _maskline.index_paths(tbl) w
    WHERE w.kind = 'btree' AND w.path IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM _maskline.index_paths(tbl) g WHERE g.kind = 'gin' AND g.path = w.path)
  LOOP
    EXECUTE format(
      'CREATE INDEX %I ON %I.%I USING gin ((%s)) WITH (fastupdate = off)',
      left(t.relname, 28) || '_' ||
        left(regexp_replace(lower(array_to_string(r.path, '_')), '[^a-z0-9_]', '_', 'g'), 20) || '_' ||
        left(md5(t.relname || '/' || to_jsonb(r.path)::text), 8) || '_gin',
      t.nspname, t.relname,
      CASE WHEN cardinality(r.path) = 1 THEN format('_jsonb -> %L', r.path[1])
           ELSE format('_jsonb #> %L', r.path) END);
  END LOOP;

  FOR r IN
    SELECT DISTINCT g.index_oid FROM _maskline.index_paths(tbl) g
    WHERE g.kind = 'gin'
      AND (g.path IS NULL OR NOT EXISTS (SELECT 1 FROM _maskline.index_paths(tbl) w
                                         WHERE w.kind = 'btree' AND w.path = g.path))
  LOOP
    EXECUTE format('DROP INDEX %s', r.index_oid::regclass);
  END LOOP;
END
$fn$;

-- After FerretDB creates an index (it makes the `_id` one with every collection table): twins for its table.
CREATE OR REPLACE FUNCTION _maskline.on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  r record;
BEGIN
  -- Our own CREATE/DROP INDEX statements fire the triggers again.
  IF current_setting('maskline.reconciling', true) = 'on' THEN
    RETURN;
  END IF;
  PERFORM set_config('maskline.reconciling', 'on', true);
  FOR r IN
    SELECT DISTINCT i.indrelid FROM pg_event_trigger_ddl_commands() d JOIN pg_index i ON i.indexrelid = d.objid
    WHERE d.object_type = 'index'
  LOOP
    PERFORM _maskline.reconcile_twins(r.indrelid);
  END LOOP;
  PERFORM set_config('maskline.reconciling', 'off', true);
END
$fn$;

-- After FerretDB drops an index (dropIndexes): the twins of paths no index of that table has any more go too.
-- The dropped index no longer names its table, so every collection table of its schema is looked at.
CREATE OR REPLACE FUNCTION _maskline.on_drop_index() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  r record;
BEGIN
  IF current_setting('maskline.reconciling', true) = 'on' THEN
    RETURN;
  END IF;
  PERFORM set_config('maskline.reconciling', 'on', true);
  FOR r IN
    SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r'
      AND n.nspname IN (SELECT d.schema_name FROM pg_event_trigger_dropped_objects() d WHERE d.object_type = 'index')
  LOOP
    PERFORM _maskline.reconcile_twins(r.oid);
  END LOOP;
  PERFORM set_config('maskline.reconciling', 'off', true);
END
$fn$;

DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'maskline_gin_twins_on_create') THEN
    CREATE EVENT TRIGGER maskline_gin_twins_on_create ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
      EXECUTE FUNCTION _maskline.on_create_index();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'maskline_gin_twins_on_drop') THEN
    CREATE EVENT TRIGGER maskline_gin_twins_on_drop ON sql_drop WHEN TAG IN ('DROP INDEX')
      EXECUTE FUNCTION _maskline.on_drop_index();
  END IF;
END
$do$;

-- Tables made before these triggers existed (or while they were off) get their twins now.
SELECT _maskline.reconcile_twins(c.oid) FROM pg_class c WHERE c.relkind = 'r';
