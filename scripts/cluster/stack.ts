/**
 * The production shape on this machine, for `npm run cluster`, `npm run test:cluster` and the cluster benchmarks:
 * the Temporal cluster of docker-compose.yml (scripts/cluster/temporal.ts: PostgreSQL, one process per service,
 * the UI), the store (FerretDB on a PostgreSQL of its own, as `npm start` runs it: compose's MongoDB 7 replica set
 * is not to be had here), and Maskline's HTTP servers and workers as the image runs them: the compiled JavaScript
 * (`node dist/src/.../main.js`), in production mode with compose's environment. Every process can be killed
 * (SIGKILL) and started again on the same ports and data.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { compileProject } from '../local/compile';
import { startFerretDb, type FerretDb } from '../local/ferretdb';
import { signalGroup } from '../local/groups';
import { freePort, isPortFree, waitUntil } from '../local/ports';
import { startPostgres, type Postgres } from '../local/postgres';
import { SEARCH_ATTRIBUTES, startTemporalDevServer } from '../local/temporal';
import { Supervisor, type LineSink, type ManagedProcess } from '../local/processes';
import { DEVELOPMENT_KEY, createDataConverter } from '../../src/temporal/payloadEncryption';
import { interpolate, readCompose } from './compose';
import {
  clusterAnswers,
  customSearchAttributes,
  setUpTemporalNamespace,
  setUpTemporalSchema,
  startTemporalPostgres,
  startTemporalProcess,
  startTemporalUi,
  temporalProcessSpecs,
  temporalServerEnvironment,
  type TemporalProcessSpec,
} from './temporal';
import { clusterTools, requireClusterTools, type ClusterTools } from './tools';

const HOST = '127.0.0.1';
const APP_READY_TIMEOUT_MS = 180_000;

export interface ClusterOptions {
  /** Where the PostgreSQL data directories, the compiled app and the UI's config live. */
  dataDir: string;
  /** PostgreSQL fsyncs (`npm run cluster`) or not (tests, benchmarks). */
  durable: boolean;
  /** One entry per HTTP server: its port, or 0 for a free one. */
  httpPorts: number[];
  workers: number;
  history: number;
  matching: number;
  /** The Temporal frontend's gRPC port; 0: a free one. */
  frontendPort: number;
  /**
   * 'dev': the single-process dev server (`temporal server start-dev`, in memory, as `npm test` runs it) instead
   * of the cluster, everything else the same: the benchmarks' baseline. Default 'cluster'.
   */
  temporal?: 'cluster' | 'dev';
  /** The Temporal UI's port (0: a free one); no UI when undefined. */
  uiPort?: number;
  /** Variables compose takes from .env: the three secrets, LOG_LEVEL, ... */
  appEnv: Record<string, string>;
  /** The Temporal server processes' log level. */
  temporalLogLevel?: string;
  /** Every output line, by process name. */
  output?: (source: string, line: string, stream: 'stdout' | 'stderr') => void;
  /** Progress messages. */
  say?: (message: string) => void;
  /** A process exited that was neither stopped nor killed by us. */
  onUnexpectedExit?: (message: string) => void;
}

/** An answer as the booking platform or 8x8 sees it: status 0 is no answer at all (nothing listening, cut off). */
export interface ClusterAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  retryAfter: string | null;
  /** Which HTTP server was asked. */
  server: number;
}

export class ClusterStack {
  readonly supervisor = new Supervisor();
  readonly tools: ClusterTools;
  /** The processes now running, by name (temporal-history-0, http-1, worker-2, ...). */
  readonly processes = new Map<string, ManagedProcess>();
  /** Processes that exited without being stopped or killed by us: each is a finding. */
  readonly unexpectedExits: string[] = [];
  temporalAddress = '';
  uiUrl: string | undefined;
  mongodbUri = '';
  httpPorts: number[] = [];
  temporalSpecs: TemporalProcessSpec[] = [];
  namespace = 'default';
  private readonly starters = new Map<string, () => Promise<void>>();
  private temporalPostgres: Postgres | undefined;
  private storePostgres: Postgres | undefined;
  private ferretdb: FerretDb | undefined;
  private ferretdbPort = 0;
  private appEnvironment: Record<string, string> = {};
  private buildDir = '';
  private nextServer = 0;
  private closing = false;

  constructor(readonly options: ClusterOptions) {
    this.tools = clusterTools();
  }

  get httpServers(): number {
    return this.httpPorts.length;
  }

  baseUrl(server: number): string {
    return `http://${HOST}:${this.httpPorts[server]}`;
  }

  /** Starts everything and resolves once every process is ready; on failure stops what it started. */
  async start(): Promise<void> {
    if (this.options.temporal !== 'dev') requireClusterTools(this.tools);
    const say = this.options.say ?? (() => undefined);
    for (const port of [...this.options.httpPorts, this.options.frontendPort, this.options.uiPort ?? 0]) {
      if (port !== 0 && !(await isPortFree(HOST, port))) {
        throw new Error(`port ${HOST}:${port} is already in use; stop what runs there or choose another port`);
      }
    }
    fs.mkdirSync(this.options.dataDir, { recursive: true });
    this.buildDir = path.join(this.options.dataDir, 'build');
    this.httpPorts = [];
    for (const port of this.options.httpPorts) this.httpPorts.push(port || (await freePort()));
    const dev = this.options.temporal === 'dev';
    if (dev) {
      this.temporalAddress = `${HOST}:${this.options.frontendPort || (await freePort())}`;
      say('starting the Temporal dev server (one process, in memory), FerretDB on PostgreSQL 17, and building the app');
    } else {
      this.temporalSpecs = await temporalProcessSpecs({
        frontendPort: this.options.frontendPort,
        history: this.options.history,
        matching: this.options.matching,
      });
      const frontend = this.temporalSpecs.find((spec) => spec.service === 'frontend')!;
      this.temporalAddress = `${HOST}:${frontend.grpcPort}`;
      const v = this.tools.versions;
      say(
        `starting Temporal ${v.temporalServer} (${this.temporalSpecs.length} processes) on PostgreSQL ` +
          `${v.postgresPackage.replace(/-.*/, '')}, FerretDB on PostgreSQL 17, and building the app`,
      );
    }
    const [bundle] = await Promise.all([
      this.buildApp(),
      dev ? this.startDevTemporal() : this.startTemporal(),
      this.startStore(),
    ]);
    say(`Temporal cluster ready at ${this.temporalAddress}; store at ${this.mongodbUri}`);
    if (this.options.uiPort !== undefined) {
      const port = this.options.uiPort || (await freePort());
      this.register('temporal-ui', async () => {
        const ui = await startTemporalUi(this.supervisor, this.tools, {
          dir: path.join(this.options.dataDir, 'ui'),
          port,
          temporalAddress: this.temporalAddress,
          namespace: this.namespace,
          output: this.sink('temporal-ui'),
        });
        this.uiUrl = ui.url;
        this.track('temporal-ui', ui.process);
      });
      await this.startProcess('temporal-ui');
    }

    const compose = readCompose();
    const variables = { ...process.env, ...this.options.appEnv };
    const base = Object.fromEntries(
      Object.entries(compose.environment('maskline-worker')).map(([key, value]) => [
        key,
        interpolate(value, variables),
      ]),
    );
    this.appEnvironment = {
      ...base,
      ...this.options.appEnv,
      // What differs from compose: where the servers are, and the workflow code, bundled once for every worker.
      MONGODB_URI: this.mongodbUri,
      TEMPORAL_ADDRESS: this.temporalAddress,
      MASKLINE_WORKFLOW_BUNDLE: bundle,
    };
    this.namespace = this.appEnvironment.TEMPORAL_NAMESPACE ?? 'default';
    for (let i = 0; i < this.options.workers; i++) this.register(`worker-${i}`, () => this.spawnWorker(i));
    for (let i = 0; i < this.httpServers; i++) this.register(`http-${i}`, () => this.spawnHttp(i));
    say(`starting ${this.options.workers} workers and ${this.httpServers} HTTP servers`);
    await Promise.all(
      [...this.starters.keys()].filter((n) => /^(worker|http)-/.test(n)).map((n) => this.startProcess(n)),
    );
  }

  /** Names of the processes of one kind: 'temporal-history', 'worker', 'http', ... */
  names(kind: string): string[] {
    return [...this.starters.keys()].filter((name) => name.replace(/-\d+$/, '') === kind);
  }

  /** SIGKILL to the process's group, as a crash of its machine would; resolves once it is gone. */
  async kill(name: string): Promise<void> {
    const proc = this.processes.get(name);
    if (!proc) return;
    proc.stopping = true;
    if (proc.pid !== undefined) signalGroup(proc.pid, 'SIGKILL');
    await Promise.race([proc.exited, sleep(10_000)]);
    this.processes.delete(name);
  }

  /** Starts a process that is not running (again, on its ports and data) and resolves once it is ready. */
  async startProcess(name: string): Promise<void> {
    const start = this.starters.get(name);
    if (!start) throw new Error(`no process ${name} in the cluster`);
    if (this.processes.has(name)) return;
    await start();
  }

  /** The app processes' environment (secrets included): for a process of one's own against this cluster. */
  get appEnv(): Record<string, string> {
    return { ...this.appEnvironment };
  }

  /** A request as the booking platform makes it, to the given HTTP server or to the next one in turn. */
  api(method: string, route: string, body?: unknown, server?: number, timeoutMs = 30_000): Promise<ClusterAnswer> {
    const key = this.appEnvironment.MASKLINE_API_KEY ?? '';
    return this.send(server, method, route, { authorization: `Bearer ${key}` }, body, timeoutMs);
  }

  /** A webhook as 8x8 sends it (`/call-action`, `/call-status`, ...), to the given server or the next in turn. */
  webhook(route: string, body: unknown, server?: number, timeoutMs = 10_000): Promise<ClusterAnswer> {
    const secret = this.appEnvironment.MASKLINE_WEBHOOK_SECRET ?? '';
    return this.send(server, 'POST', `/webhooks/8x8${route}`, { authorization: secret }, body, timeoutMs);
  }

  /**
   * Stops everything in order: the HTTP servers (15 s), the workers (they finish their tasks, 60 s), the Temporal
   * frontend and the UI, the other Temporal services, FerretDB, then both PostgreSQL servers.
   */
  async stop(options: { kill?: boolean } = {}): Promise<void> {
    this.closing = true;
    const stopAll = async (prefix: RegExp, graceMs: number) => {
      const names = [...this.processes.keys()].filter((name) => prefix.test(name));
      await Promise.all(
        names.map(async (name) => {
          if (options.kill) await this.kill(name);
          else await this.processes.get(name)?.stop(graceMs);
          this.processes.delete(name);
        }),
      );
    };
    await stopAll(/^http-/, 15_000);
    await stopAll(/^worker-/, 60_000);
    await stopAll(/^temporal-(frontend|ui)$/, 15_000);
    await stopAll(/^temporal-/, 15_000);
    await this.ferretdb?.process.stop(10_000);
    await Promise.all([this.storePostgres?.process.stop(30_000), this.temporalPostgres?.process.stop(30_000)]);
    await this.supervisor.close(10_000);
  }

  private async send(
    server: number | undefined,
    method: string,
    route: string,
    headers: Record<string, string>,
    body: unknown,
    timeoutMs: number,
  ): Promise<ClusterAnswer> {
    const target = server ?? this.nextServer++ % this.httpServers;
    try {
      const response = await fetch(`${this.baseUrl(target)}${route}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = { error: { code: 'not_json', message: text.slice(0, 200) } };
      }
      return { status: response.status, body: parsed, retryAfter: response.headers.get('retry-after'), server: target };
    } catch (error) {
      return {
        status: 0,
        body: { error: { code: 'no_answer', message: String(error) } },
        retryAfter: null,
        server: target,
      };
    }
  }

  private register(name: string, start: () => Promise<void>): void {
    this.starters.set(name, start);
  }

  private track(name: string, proc: ManagedProcess): void {
    this.processes.set(name, proc);
    void proc.exited.then((info) => {
      if (proc.stopping || this.closing) return;
      this.processes.delete(name);
      const message = proc.exitError(info).message.split('\n')[0] ?? name;
      this.unexpectedExits.push(message);
      this.options.onUnexpectedExit?.(message);
    });
  }

  private sink(name: string): LineSink {
    // What the servers say while everything stops is about each other going away.
    return (line, stream) => {
      if (!this.closing) this.options.output?.(name, line, stream);
    };
  }

  /** Compiles the app as `npm run build` does for the image, and bundles the workflow code once. */
  private async buildApp(): Promise<string> {
    fs.rmSync(this.buildDir, { recursive: true, force: true });
    await compileProject('tsconfig.build.json', this.buildDir);
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      failureConverterPath: createDataConverter([DEVELOPMENT_KEY]).failureConverterPath,
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const file = path.join(this.buildDir, 'workflow-bundle.js');
    fs.writeFileSync(file, code);
    return file;
  }

  private async startTemporal(): Promise<void> {
    this.temporalPostgres = await startTemporalPostgres(this.supervisor, this.tools, {
      dataDir: path.join(this.options.dataDir, 'temporal-postgres'),
      durable: this.options.durable,
      output: this.sink('temporal-postgres'),
    });
    this.track('temporal-postgres', this.temporalPostgres.process);
    await setUpTemporalSchema(this.tools, this.temporalPostgres, this.sink('temporal-schema'));
    const postgres = this.temporalPostgres;
    for (const spec of this.temporalSpecs) {
      const env = temporalServerEnvironment(
        postgres,
        this.temporalSpecs,
        spec,
        this.options.temporalLogLevel ?? 'warn',
      );
      this.register(spec.name, async () => {
        const proc = await startTemporalProcess(this.supervisor, this.tools, spec, env, this.sink(spec.name));
        this.track(spec.name, proc);
      });
    }
    // The first process initialises the cluster's metadata in a new database (two at once: one loses and exits),
    // then every other service at once: each finds the others through the membership table in PostgreSQL.
    const [first, ...others] = this.temporalSpecs;
    await this.startProcess(first!.name);
    await Promise.all(others.map((spec) => this.startProcess(spec.name)));
    await setUpTemporalNamespace(this.temporalAddress, this.sink('temporal-setup'));
    // compose's temporal-setup.sh names the search attributes itself: they must be the dev server's, same types.
    await waitUntil(
      `Temporal cluster at ${this.temporalAddress} (namespace and search attributes)`,
      () => clusterAnswers(this.temporalAddress, this.namespace, Object.keys(SEARCH_ATTRIBUTES)),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const registered = await customSearchAttributes(this.temporalAddress, this.namespace);
    const differ = Object.entries(SEARCH_ATTRIBUTES).filter(([name, type]) => registered[name] !== type);
    if (differ.length > 0) {
      throw new Error(
        `infra/compose/temporal-setup.sh registers ${JSON.stringify(registered)}; the dev server ` +
          `(scripts/local/temporal.ts) ${JSON.stringify(SEARCH_ATTRIBUTES)}: ${differ.map(([n]) => n).join(', ')} differ`,
      );
    }
  }

  private async startDevTemporal(): Promise<void> {
    this.register('temporal-dev', async () => {
      const server = await startTemporalDevServer(this.supervisor, {
        port: Number(this.temporalAddress.split(':')[1]),
        namespace: this.namespace,
        output: this.sink('temporal-dev'),
      });
      this.track('temporal-dev', server.process);
    });
    await this.startProcess('temporal-dev');
  }

  private async startStore(): Promise<void> {
    this.storePostgres = await startPostgres(this.supervisor, {
      port: 0,
      dataDir: path.join(this.options.dataDir, 'store-postgres'),
      durable: this.options.durable,
      output: this.sink('store-postgres'),
    });
    this.track('store-postgres', this.storePostgres.process);
    const postgresUrl = await this.storePostgres.createDatabase('ferretdb');
    this.register('ferretdb', async () => {
      this.ferretdb = await startFerretDb(this.supervisor, {
        port: this.ferretdbPort,
        postgresUrl,
        output: this.sink('ferretdb'),
      });
      this.ferretdbPort = this.ferretdb.port;
      this.track('ferretdb', this.ferretdb.process);
    });
    await this.startProcess('ferretdb');
    this.mongodbUri = this.ferretdb!.uri('maskline');
  }

  private spawnApp(name: string, script: string, env: Record<string, string>): ManagedProcess {
    const proc = this.supervisor.spawn(name, process.execPath, [path.join(this.buildDir, script)], {
      env: { ...process.env, ...this.appEnvironment, ...env },
      output: this.sink(name),
      tailInErrors: false,
    });
    this.track(name, proc);
    return proc;
  }

  private async spawnWorker(index: number): Promise<void> {
    // Compose gives every worker container port 9464; here the workers share one host, so each takes a free one.
    const worker = this.spawnApp(`worker-${index}`, 'src/worker/main.js', { MASKLINE_WORKER_METRICS_PORT: '0' });
    await worker.waitForLine((line) => line.includes('"msg":"worker running"'), APP_READY_TIMEOUT_MS, 'worker start');
  }

  private async spawnHttp(index: number): Promise<void> {
    const port = this.httpPorts[index]!;
    const http = this.spawnApp(`http-${index}`, 'src/server/main.js', { PORT: String(port) });
    await waitUntil(
      `HTTP server ${index} (GET http://${HOST}:${port}/readyz)`,
      async () => {
        const response = await fetch(`http://${HOST}:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
        await response.body?.cancel();
        return response.status === 200;
      },
      {
        timeoutMs: APP_READY_TIMEOUT_MS,
        intervalMs: 250,
        abort: http.exited.then((info) => Promise.reject(http.exitError(info))),
      },
    );
  }
}
