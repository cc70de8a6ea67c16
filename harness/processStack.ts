import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startFerretDb, type FerretDb } from '../scripts/local/ferretdb';
import { signalGroup } from '../scripts/local/groups';
import { freePort, waitUntil } from '../scripts/local/ports';
import { Supervisor, type ManagedProcess } from '../scripts/local/processes';
import { startTemporalDevServer, type TemporalDevServer } from '../scripts/local/temporal';
import { DEVELOPMENT_KEY, createDataConverter } from '../src/temporal/payloadEncryption';
import { keepForLogScan } from './logCapture';
import { ownDatabase, type OwnDatabase } from './ownServers';
import { API_KEY, ENCRYPTION_KEYS, WEBHOOK_SECRET, type Answer } from './stack';

/**
 * The service as it runs in production, for crash and outage tests: a Temporal dev server that keeps its state in a
 * file and a FerretDB on a PostgreSQL database of its own (both on free loopback ports, both restartable on the
 * same port and data), the HTTP server and N workers as real child processes (`node --import tsx src/.../main.ts`),
 * each of which can be killed with SIGKILL and started again. Every output line is kept, for the whole-suite log
 * scan.
 */
export interface ProcessStackOptions {
  workers?: number;
  /** Extra environment of the app processes. */
  env?: Record<string, string>;
  /** Receives every line the app processes print (default: kept only). */
  onLine?: (process: string, line: string) => void;
}

const HOST = '127.0.0.1';
const NODE_ARGS = (entry: string) => ['--import', 'tsx', entry];
const READY_TIMEOUT_MS = 120_000;

/** Builds the workflow bundle once per process, so that each worker process starts in a second, not ten. */
let bundlePath: Promise<string> | undefined;
function workflowBundle(dir: string): Promise<string> {
  bundlePath ??= (async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      failureConverterPath: createDataConverter([DEVELOPMENT_KEY]).failureConverterPath,
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const file = path.join(dir, 'workflow-bundle.js');
    fs.writeFileSync(file, code);
    return file;
  })();
  return bundlePath;
}

export class ProcessStack {
  readonly supervisor = new Supervisor();
  /** Every line the app processes and servers printed, tagged with who printed it. */
  readonly lines: string[] = [];
  temporal: TemporalDevServer | undefined;
  ferretdb: FerretDb | undefined;
  http: ManagedProcess | undefined;
  readonly workers: (ManagedProcess | undefined)[] = [];
  readonly httpPort: number;
  readonly temporalPort: number;
  readonly mongodbPort: number;
  readonly taskQueue = `chaos-${randomBytes(4).toString('hex')}`;
  private readonly dir: string;
  private bundle: string | undefined;
  private database: OwnDatabase | undefined;

  private constructor(
    private readonly options: ProcessStackOptions,
    ports: [number, number, number],
  ) {
    [this.httpPort, this.temporalPort, this.mongodbPort] = ports;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-process-stack-'));
  }

  static async start(options: ProcessStackOptions = {}): Promise<ProcessStack> {
    const ports: [number, number, number] = [await freePort(), await freePort(), await freePort()];
    const stack = new ProcessStack(options, ports);
    try {
      const [bundle] = await Promise.all([workflowBundle(stack.dir), stack.startTemporal(), stack.startStore()]);
      stack.bundle = bundle;
      await Promise.all([
        stack.startHttp(),
        ...Array.from({ length: options.workers ?? 1 }, (_, i) => stack.startWorker(i)),
      ]);
      return stack;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }

  get baseUrl(): string {
    return `http://${HOST}:${this.httpPort}`;
  }

  get temporalAddress(): string {
    return `${HOST}:${this.temporalPort}`;
  }

  get mongodbUri(): string {
    return `mongodb://${HOST}:${this.mongodbPort}/maskline?directConnection=true`;
  }

  /** Starts (or restarts, on the same port and state file) the Temporal dev server. */
  async startTemporal(): Promise<void> {
    this.temporal = await startTemporalDevServer(this.supervisor, {
      port: this.temporalPort,
      dbFilename: path.join(this.dir, 'temporal.sqlite'),
      output: this.sink('temporal'),
    });
  }

  async stopTemporal(): Promise<void> {
    await this.temporal?.process.stop(15_000);
    this.temporal = undefined;
  }

  /** Starts (or restarts, on the same port and database) FerretDB. */
  async startStore(): Promise<void> {
    this.database ??= await ownDatabase(this.supervisor);
    this.ferretdb = await startFerretDb(this.supervisor, {
      port: this.mongodbPort,
      postgresUrl: this.database.postgresUrl,
      output: this.sink('ferretdb'),
    });
  }

  /**
   * The store goes away as in a crash of its host: SIGKILL to FerretDB, the MongoDB server of the app. Its
   * PostgreSQL keeps running, as a MongoDB's disk would: it holds the data the store comes back with.
   */
  async killStore(): Promise<void> {
    if (this.ferretdb) await kill(this.ferretdb.process);
    this.ferretdb = undefined;
  }

  async startHttp(): Promise<void> {
    const http = this.spawnApp('http', 'src/server/main.ts', { PORT: String(this.httpPort) });
    this.http = http;
    await waitUntil('HTTP server', () => this.listening(), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      abort: http.exited.then((info) => Promise.reject(http.exitError(info))),
    });
  }

  async killHttp(): Promise<void> {
    if (this.http) await kill(this.http);
    this.http = undefined;
  }

  async startWorker(index: number): Promise<void> {
    const worker = this.spawnApp(`worker-${index}`, 'src/worker/main.ts', {});
    this.workers[index] = worker;
    await worker.waitForLine((line) => line.includes('"msg":"worker running"'), READY_TIMEOUT_MS, 'worker start');
  }

  async killWorker(index: number): Promise<void> {
    const worker = this.workers[index];
    if (worker) await kill(worker);
    this.workers[index] = undefined;
  }

  /** A request as the booking platform makes it; a refused connection (server down) is status 0. */
  async api(method: string, route: string, body?: unknown, timeoutMs = 30_000): Promise<Answer> {
    return this.send(method, route, { authorization: `Bearer ${API_KEY}` }, body, timeoutMs);
  }

  /** A webhook as 8x8 sends it. */
  async webhook(route: string, body: unknown, timeoutMs = 10_000): Promise<Answer> {
    return this.send('POST', `/webhooks/8x8${route}`, { authorization: WEBHOOK_SECRET }, body, timeoutMs);
  }

  /** The app processes are killed (a test has no use for their graceful stop), then the servers stopped. */
  async stop(): Promise<void> {
    await Promise.all([this.killHttp(), ...this.workers.map((_, index) => this.killWorker(index))]);
    await this.supervisor.close(10_000);
    await this.database?.drop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async send(method: string, route: string, headers: Record<string, string>, body: unknown, timeoutMs: number) {
    try {
      const response = await fetch(`${this.baseUrl}${route}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    } catch (error) {
      return { status: 0, body: { error: { code: 'no_answer', message: String(error) } } };
    }
  }

  private async listening(): Promise<boolean> {
    const response = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200;
  }

  private spawnApp(name: string, entry: string, env: Record<string, string>): ManagedProcess {
    return this.supervisor.spawn(name, process.execPath, NODE_ARGS(entry), {
      env: {
        ...process.env,
        MONGODB_URI: this.mongodbUri,
        TEMPORAL_ADDRESS: this.temporalAddress,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: this.taskQueue,
        MASKLINE_API_KEY: API_KEY,
        MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        MASKLINE_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
        MASKLINE_WORKFLOW_BUNDLE: this.bundle ?? '',
        // Info, whatever the test run's level: the worker says it runs at info, and the lines are only kept.
        LOG_LEVEL: 'info',
        ...this.options.env,
        ...env,
      },
      output: this.sink(name),
    });
  }

  private sink(name: string) {
    // The app's own lines go to the whole-suite log scan; the servers' are not ours to judge.
    const app = name === 'http' || name.startsWith('worker');
    return (line: string) => {
      this.lines.push(`[${name}] ${line}`);
      if (app) keepForLogScan(name, [line]);
      this.options.onLine?.(name, line);
    };
  }
}

/** SIGKILL to the process's group, as a crash of its machine would; resolves once it is gone. */
async function kill(process: ManagedProcess): Promise<void> {
  process.stopping = true;
  if (process.pid !== undefined) signalGroup(process.pid, 'SIGKILL');
  await Promise.race([process.exited, sleep(10_000)]);
}
