/**
 * `npm test [-- FILE_OR_DIR ...]`: runs test/**\/*.test.ts with node:test, two files at a time, each file in its
 * own process, against a Temporal dev server and a FerretDB on PostgreSQL that this run starts for itself (in
 * memory / in a temporary directory, on free ports), so it never touches a running `npm start`. TEMPORAL_ADDRESS
 * or MONGODB_URI, when set, are used instead. Ends with one line "N passed, N failed[, N skipped]".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { repoRoot, tools } from './local/paths';
import { freePort } from './local/ports';
import { processesWithEnv, stopProcesses } from './local/groups';
import { Supervisor, type LineSink } from './local/processes';
import { startTemporalDevServer } from './local/temporal';
import { startFerretDb } from './local/ferretdb';
import { startPostgres } from './local/postgres';
import { countLines, scanLogDirectory } from './logScan';

/**
 * A test file that runs longer than this fails (and its process is killed) instead of blocking CI. Node 20's
 * run() applies `timeout` per file when each file has its own process; a per-test limit would need
 * `--test-timeout`, which Node 20 accepts only with `node --test`.
 */
const FILE_TIMEOUT_MS = Number(process.env.MASKLINE_TEST_FILE_TIMEOUT_MS ?? 300_000);
const CONCURRENCY = 2;

const say = (message: string) => process.stderr.write(`[test] ${message}\n`);
const prefixed =
  (prefix: string): LineSink =>
  (line) =>
    process.stderr.write(`[${prefix}] ${line}\n`);

function testFiles(args: string[]): string[] {
  const roots = args.length > 0 ? args : [path.join(repoRoot, 'test')];
  const files = new Set<string>();
  const walk = (p: string) => {
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (!stat) throw new Error(`no such test file or directory: ${p}`);
    if (stat.isFile()) {
      files.add(path.resolve(p));
      return;
    }
    for (const entry of fs.readdirSync(p, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const child = path.join(p, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.test.ts')) files.add(path.resolve(child));
    }
  };
  for (const root of roots) walk(root);
  return [...files].sort();
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

async function runTests(files: string[], signal: AbortSignal, output: string[]): Promise<Counts> {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  // Each child inherits our execArgv (--import tsx) and environment.
  const stream = run({ files, concurrency: CONCURRENCY, timeout: FILE_TIMEOUT_MS, signal });
  // What the test files' processes print besides their results: app log lines among them, for the log scan.
  type Output = { file?: string; message: string };
  const keep = (data: Output) =>
    output.push(...data.message.split('\n').map((line) => `${path.basename(data.file ?? '')}: ${line}`));
  stream.on('test:stdout', keep);
  stream.on('test:stderr', keep);
  type Event = { details: { type?: string }; skip?: unknown; todo?: unknown };
  stream.on('test:pass', (data: Event) => {
    if (data.details.type === 'suite') return;
    if (data.skip !== undefined || data.todo !== undefined) counts.skipped++;
    else counts.passed++;
  });
  // Includes a file whose process failed outside any test (it did not load, it timed out, it exited non-zero).
  stream.on('test:fail', (data: Event) => {
    if (data.details.type !== 'suite') counts.failed++;
  });
  const reporter = stream.compose(new spec());
  reporter.pipe(process.stdout);
  await once(reporter, 'end');
  return counts;
}

/** The whole-suite net: no phone number unmasked in any log line of the run. Counts as one more test. */
function scanLogs(logDir: string, testOutput: string[]): boolean {
  const findings = scanLogDirectory(logDir, [{ source: 'test output', lines: testOutput }]);
  const scanned = countLines(logDir) + testOutput.length;
  if (findings.length === 0) {
    say(`log scan: no unmasked phone number in ${scanned} captured log and output lines`);
    return true;
  }
  say(`log scan FAILED: ${findings.length} of ${scanned} captured lines show a phone number unmasked (masked here):`);
  for (const finding of findings.slice(0, 50)) say(`  ${finding}`);
  return false;
}

async function main(): Promise<number> {
  const files = testFiles(process.argv.slice(2));
  if (files.length === 0) {
    say('no test files found (test/**/*.test.ts)');
    return 1;
  }

  const supervisor = new Supervisor();
  const abort = new AbortController();
  let tempDir: string | undefined;
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = true;
      say(`${sig}: stopping the tests and the servers`);
      abort.abort();
    });
  }

  try {
    const started = Date.now();
    if (!process.env.MONGODB_URI) {
      // Straight under the temporary folder: as root, PostgreSQL's own user (nobody) must be able to reach it.
      tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-test-postgres-'));
      supervisor.removeIfAbandoned(tempDir);
    }
    const startStore = async (dataDir: string) => {
      const postgres = await startPostgres(supervisor, {
        port: 0,
        dataDir,
        durable: false,
        output: prefixed('postgres'),
      });
      const postgresUrl = await postgres.createDatabase('ferretdb');
      return {
        postgres,
        ferretdb: await startFerretDb(supervisor, { port: 0, postgresUrl, output: prefixed('ferretdb') }),
      };
    };
    const [temporal, store] = await Promise.all([
      process.env.TEMPORAL_ADDRESS
        ? undefined
        : freePort().then((port) => startTemporalDevServer(supervisor, { port, output: prefixed('temporal') })),
      tempDir ? startStore(tempDir) : undefined,
    ]);
    const ferretdb = store?.ferretdb;
    if (temporal || store) {
      const what = [
        temporal && `Temporal ${temporal.address}`,
        store && `FerretDB ${store.ferretdb.host}:${store.ferretdb.port} on PostgreSQL ${store.postgres.port}`,
      ];
      say(`${what.filter(Boolean).join(', ')} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    for (const server of [temporal?.process, store?.postgres.process, ferretdb?.process]) {
      void server?.exited.then((info) => {
        if (server.stopping) return;
        say(server.exitError(info).message);
        abort.abort();
      });
    }

    process.env.TEMPORAL_ADDRESS ??= temporal?.address;
    process.env.TEMPORAL_NAMESPACE ??= 'default';
    process.env.MONGODB_URI ??= ferretdb?.uri('maskline_test');
    // Test files that start a FerretDB of their own (harness/ownServers.ts) put it on this PostgreSQL.
    if (store) process.env.MASKLINE_TEST_POSTGRES_URL = store.postgres.url('postgres');
    process.env.MASKLINE_TEMPORAL_TEST_SERVER = tools.temporalTestServer;
    process.env.MASKLINE_TEMPORAL_CLI = tools.temporalCli;
    process.env.LOG_LEVEL ??= 'warn';
    // Every stack of a test file appends its captured log lines here (harness/logCapture.ts).
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-test-logs-'));
    process.env.MASKLINE_TEST_LOG_DIR = logDir;
    // Marks the test-file processes (set after the servers started, so they do not carry it), so that none
    // outlives this run: node:test does not stop a file's process that ignores its SIGTERM after an abort.
    const runId = `${process.pid}-${Date.now()}`;
    process.env.MASKLINE_TEST_RUN = runId;
    supervisor.watchEnvironment('MASKLINE_TEST_RUN', runId);

    const output: string[] = [];
    const counts = await runTests(files, abort.signal, output).finally(() =>
      stopProcesses(processesWithEnv('MASKLINE_TEST_RUN', runId), 3_000),
    );
    if (scanLogs(logDir, output)) counts.passed++;
    else counts.failed++;
    // MASKLINE_TEST_KEEP_LOGS=1 keeps them for a look after the run.
    if (process.env.MASKLINE_TEST_KEEP_LOGS === '1') say(`log lines kept in ${logDir}`);
    else fs.rmSync(logDir, { recursive: true, force: true });
    const line = `${counts.passed} passed, ${counts.failed} failed${counts.skipped > 0 ? `, ${counts.skipped} skipped` : ''}`;
    process.stdout.write(`\n${line}\n`);
    if (counts.passed + counts.failed + counts.skipped === 0) say('no test ran');
    return counts.failed > 0 || abort.signal.aborted || counts.passed + counts.failed + counts.skipped === 0 ? 1 : 0;
  } finally {
    await supervisor.close();
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
