package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver FerretDB itself uses
)

// indexIDLookups works around a FerretDB 1.24 SQLite backend mismatch: it indexes `_id` as
// `_ferretdb_sjson->"_id"` but looks documents up by `_ferretdb_sjson->'$._id'`, so SQLite never uses that
// index and every find-by-_id scans the whole table (measured: 1.6 ms at 1,000 documents, 11 ms at 20,000).
// Call routing is one find-by-_id per call, so for local runs this adds, to every collection, an index on the
// exact expression FerretDB queries by. FerretDB does not know about these indexes, which is harmless: they
// are plain SQLite indexes that go away with their table. Real MongoDB needs none of this.
func indexIDLookups(ctx context.Context, dataDir string, logger *slog.Logger) {
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
	for {
		files, _ := filepath.Glob(filepath.Join(dataDir, "*.sqlite"))
		for _, file := range files {
			if err := indexDatabase(ctx, file); err != nil {
				logger.Debug("id index pass failed", slog.String("file", file), slog.String("error", err.Error()))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func indexDatabase(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(2000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master AS t
		WHERE type = 'table' AND name NOT LIKE '\_ferretdb%' ESCAPE '\'
		AND NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = t.name || '__id_lookup')`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		if strings.ContainsRune(table, '"') {
			continue
		}
		statement := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS "%s__id_lookup" ON "%s" (_ferretdb_sjson->'$._id')`, table, table)
		if _, err := db.ExecContext(ctx, statement); err != nil {
			return err
		}
	}
	return nil
}
