// Command maskline-ferretdb runs FerretDB v1 embedded, with the PostgreSQL backend, as the local MongoDB-wire
// store for `npm start` and `npm test` (scripts/local/postgres.ts starts the PostgreSQL).
//
// We embed FerretDB instead of `go install`-ing its own command because that command panics at start when
// built from the module zip (it requires build/version/version.txt, which is not in the zip; FerretDB#2982).
// Embedding also keeps telemetry off: ferretdb.New disables and locks it, so nothing is ever reported.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", envOr("MASKLINE_FERRETDB_LISTEN", "127.0.0.1:27017"),
		"loopback TCP address to listen on (port 0 picks a free port); env MASKLINE_FERRETDB_LISTEN")
	postgresqlURL := flag.String("postgresql-url", envOr("MASKLINE_FERRETDB_POSTGRESQL_URL", ""),
		"PostgreSQL database to keep the data in, e.g. postgres://postgres@127.0.0.1:5432/ferretdb; it must exist, "+
			"and the user be a superuser (for the index triggers); env MASKLINE_FERRETDB_POSTGRESQL_URL")
	watchParent := flag.Bool("watch-parent", false,
		"exit when the parent process goes away (so a crashed supervisor leaves no store behind)")
	logLevel := flag.String("log-level", envOr("MASKLINE_FERRETDB_LOG_LEVEL", "warn"),
		"debug, info, warn or error; env MASKLINE_FERRETDB_LOG_LEVEL")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "maskline-ferretdb: -log-level: %s\n", err)
		os.Exit(2)
	}

	if *postgresqlURL == "" {
		fmt.Fprintln(os.Stderr, "maskline-ferretdb: -postgresql-url is required")
		os.Exit(2)
	}

	if err := run(*listen, *postgresqlURL, *watchParent, level); err != nil {
		fmt.Fprintf(os.Stderr, "maskline-ferretdb: %s\n", err)
		os.Exit(1)
	}
}

func run(listen, postgresqlURL string, watchParent bool, level slog.Level) error {
	if err := requireLoopback(listen); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if err := installGINTwins(ctx, postgresqlURL); err != nil {
		return err
	}

	var handler slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	if level > slog.LevelDebug {
		handler = quietHandler{handler}
	}
	logger := slog.New(handler)

	// ferretdb.New binds the listener, so once it returns the port accepts connections.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: postgresqlURL,
	})
	if err != nil {
		return err
	}

	if watchParent {
		go exitWithParent(ctx, stop)
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// One line that supervisors wait for; it carries the real address when the port was 0.
	fmt.Printf("maskline-ferretdb ready %s postgresql=%s\n", f.MongoDBURI(), redacted(postgresqlURL))

	return <-done
}

// requireLoopback refuses anything but a loopback address: this store has no authentication.
func requireLoopback(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", listen, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("listen address must be loopback (127.0.0.1, ::1 or localhost): " + listen)
	}
	return nil
}

// exitWithParent polls the parent pid: when the parent dies the kernel re-parents us, and the pid changes.
func exitWithParent(ctx context.Context, stop context.CancelFunc) {
	parent := os.Getppid()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != parent {
				fmt.Fprintln(os.Stderr, "maskline-ferretdb: parent process exited; shutting down")
				stop()
				return
			}
		}
	}
}

// quietHandler drops FerretDB's per-connection chatter that it logs at WARN: a full wire dump of every command
// that answered ok:0 (the driver's endSessions, which FerretDB 1.x lacks, on every client close; the client sees
// real errors itself) and "Connection stopped" whenever a client disconnects. It also drops the ERROR that the
// PostgreSQL driver logs for every statement that failed, with the statement and part of the document: a
// duplicate key, which the application provokes on purpose (its holds are unique inserts), is one, and the
// client gets the error anyway. -log-level debug shows them all.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelError && (strings.HasPrefix(r.Message, "Response header:") ||
		strings.HasPrefix(r.Message, "Response message:") || r.Message == "Connection stopped") {
		return nil
	}
	statement := false
	r.Attrs(func(a slog.Attr) bool {
		statement = a.Key == "sql"
		return !statement
	})
	if statement {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}

// redacted is the URL without its password, for the readiness line.
func redacted(postgresqlURL string) string {
	u, err := url.Parse(postgresqlURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
