import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { loadConfig, type Config } from '../src/config';
import { createLogger } from '../src/logging/logger';
import { createHttpApplication } from '../src/server/httpApplication';
import { connectDatabase, ensureIndexes, type Database } from '../src/store/database';
import { createDataConverter } from '../src/temporal/payloadEncryption';
import { installTemporalLogging } from '../src/temporal/logging';
import { temporalPlugins } from '../src/tracing/tracing';
import { createBookingWorker } from '../src/worker/bookingWorker';
import { keepForLogScan } from './logCapture';

export const API_KEY = 'test-api-key-0123456789';
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';
export const CODEC_TOKEN = 'test-codec-token-0123456789';
export const METRICS_TOKEN = 'test-metrics-token-0123456789';
/** The stack's Temporal payload key (`keyId:base64`), as MASKLINE_ENCRYPTION_KEYS carries it. */
export const ENCRYPTION_KEYS = `test-key-1:${Buffer.alloc(32, 7).toString('base64')}`;

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Every log line the stack wrote, for tests that check what reaches the logs. */
export class CapturedLogs extends Writable {
  readonly lines: string[] = [];
  /** Lines that match are also written to stderr, so that a failing test shows them. */
  constructor(private readonly echo?: (line: string) => boolean) {
    super();
  }
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    const lines = chunk.toString('utf8').split('\n').filter(Boolean);
    this.lines.push(...lines);
    keepForLogScan('captured', lines);
    for (const line of lines) if (this.echo?.(line)) process.stderr.write(`${line}\n`);
    done();
  }
}

let temporalLogs: CapturedLogs | undefined;

/**
 * The Temporal SDK's own logs (worker, workflow sandbox, native core), through our logger as the worker process
 * routes them. The SDK's Runtime is one per process and takes its logger before the first connection, so the first
 * stack of a test file installs it, at that stack's log level; later stacks share it.
 */
function captureTemporalLogs(level: string): CapturedLogs {
  if (temporalLogs) return temporalLogs;
  const captured = new CapturedLogs((line) => /"level":"(warn|error|fatal)"/.test(line));
  if (Runtime._instance) throw new Error('the Temporal Runtime was created before startStack(); it must come first');
  installTemporalLogging(createLogger({ level, name: 'maskline-worker', destination: captured }));
  temporalLogs = captured;
  return captured;
}

/** The database URI for this test file: the runner's server, a database of its own. */
export function testDatabaseUri(name: string): string {
  const base = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/maskline_test?directConnection=true';
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface Stack {
  config: Config;
  baseUrl: string;
  database: Database;
  temporal: Client;
  /** The application's log lines (HTTP app, call routing, ...). */
  logs: CapturedLogs;
  /** The Temporal SDK's log lines (shared by the stacks of one test file). */
  temporalLogs: CapturedLogs;
  /** Stops the worker only (as a crash would), leaving HTTP and store up. */
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real thing, in-process: a worker on a task queue of its own, the HTTP app on a free port, a database of
 * its own on the test run's store, and the test run's Temporal server.
 */
export async function startStack(
  options: { env?: Record<string, string>; workers?: number; logLevel?: string } = {},
): Promise<Stack> {
  const logLevel = options.logLevel ?? process.env.LOG_LEVEL ?? 'info';
  const logs = new CapturedLogs();
  const sdkLogs = captureTemporalLogs(logLevel);
  const mongodbUri = testDatabaseUri(uniqueId('maskline_test').replace(/-/g, '_'));
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    MONGODB_URI: mongodbUri,
    TEMPORAL_TASK_QUEUE: uniqueId('bookings'),
    MASKLINE_API_KEY: API_KEY,
    MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    MASKLINE_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
    MASKLINE_CODEC_TOKEN: CODEC_TOKEN,
    MASKLINE_METRICS_TOKEN: METRICS_TOKEN,
    ...options.env,
  });
  const logger = createLogger({ level: logLevel, destination: logs });

  const database = await connectDatabase(config.mongodbUri);
  await ensureIndexes(database);
  const clientConnection = await Connection.connect({ address: config.temporalAddress });
  const temporal = new Client({
    connection: clientConnection,
    namespace: config.temporalNamespace,
    dataConverter: createDataConverter(config.encryptionKeys),
    plugins: temporalPlugins(),
  });

  // Several workers on one task queue, as several worker processes would be in production.
  let workers: { worker: Worker; run: Promise<void>; connection: NativeConnection }[] = [];
  const startWorker = async () => {
    for (let i = 0; i < (options.workers ?? 1); i++) {
      const connection = await NativeConnection.connect({ address: config.temporalAddress });
      const worker = await createBookingWorker({
        connection,
        namespace: config.temporalNamespace,
        taskQueue: config.temporalTaskQueue,
        database,
        eightByEight: config.eightByEight,
        encryptionKeys: config.encryptionKeys,
        events: config.events,
        workflowBundlePath: process.env.MASKLINE_WORKFLOW_BUNDLE,
      });
      workers.push({ worker, run: worker.run(), connection });
    }
  };
  const stopWorker = async () => {
    const stopping = workers;
    workers = [];
    for (const { worker } of stopping) worker.shutdown();
    for (const { run, connection } of stopping) {
      await run;
      await connection.close();
    }
  };
  await startWorker();

  const { app, stopObservingFigures } = createHttpApplication(config, { database, temporal, logger });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    database,
    temporal,
    logs,
    temporalLogs: sdkLogs,
    stopWorker,
    startWorker,
    async stop() {
      stopObservingFigures();
      server.closeAllConnections();
      server.close();
      await stopWorker();
      await clientConnection.close();
      await database.db.dropDatabase().catch(() => undefined);
      await database.close();
    },
  };
}

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A request as the booking platform makes it. */
export async function api(
  stack: Stack,
  method: string,
  path: string,
  body?: unknown,
  apiKey = API_KEY,
): Promise<Answer> {
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** A webhook as 8x8 sends it: the registered httpAuthHeader verbatim in Authorization. */
export async function webhook(stack: Stack, path: string, body: unknown, secret = WEBHOOK_SECRET): Promise<Answer> {
  const response = await fetch(`${stack.baseUrl}/webhooks/8x8${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { authorization: secret } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await probe();
  }
  return last;
}
