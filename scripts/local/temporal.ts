import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { tools } from './paths';
import { canConnect, isPortFree, waitUntil } from './ports';
import type { LineSink, ManagedProcess, Supervisor } from './processes';

/** Registered when the dev server starts, so workflows can set them and the UI can filter on them. */
export const SEARCH_ATTRIBUTES = {
  BookingStatus: 'Keyword',
  VirtualNumber: 'Keyword',
  BookingPartyRoles: 'KeywordList',
} as const;

/**
 * The flags the TypeScript SDK's own createLocal() passes: workflow updates (and their async-accepted form) are
 * behind dynamic config on some server versions.
 */
const UPDATE_FLAGS = [
  'frontend.enableServerVersionCheck=false',
  'frontend.enableUpdateWorkflowExecution=true',
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
];

export interface TemporalDevServerOptions {
  /** gRPC port on 127.0.0.1. */
  port: number;
  /** SQLite file for state that survives restarts; in memory when unset. */
  dbFilename?: string;
  /** Web UI port; no UI (headless) when unset. */
  uiPort?: number;
  /** Codec server the Web UI decodes encrypted payloads with (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
  namespace?: string;
  /** Receives the server's log lines (warnings and errors; they stop once we stop it). */
  output?: LineSink;
  readyTimeoutMs?: number;
}

export interface TemporalDevServer {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  process: ManagedProcess;
}

const HOST = '127.0.0.1';

/** Warnings every fresh dev server prints that mean nothing to us. */
const KNOWN_NOISE = [/Cluster Id in Cluster Metadata config is not a valid uuid/];

/** Starts `temporal server start-dev` and resolves once it answers gRPC and knows the namespace. */
export async function startTemporalDevServer(
  supervisor: Supervisor,
  options: TemporalDevServerOptions,
): Promise<TemporalDevServer> {
  const namespace = options.namespace ?? 'default';
  for (const [what, port] of [
    ['Temporal gRPC', options.port],
    ['Temporal Web UI', options.uiPort],
  ] as const) {
    if (port !== undefined && !(await isPortFree(HOST, port))) {
      throw new Error(
        `${what} port ${HOST}:${port} is already in use (another Temporal server, or an earlier npm start still ` +
          `running?). Stop it, or set TEMPORAL_ADDRESS to use a Temporal server you run yourself.`,
      );
    }
  }
  if (!fs.existsSync(tools.temporalCli)) {
    throw new Error(`Temporal CLI not found at ${tools.temporalCli}; run: bash scripts/setup.sh`);
  }

  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(options.port), '--namespace', namespace];
  args.push('--log-level', 'warn', '--log-format', 'text');
  for (const flag of UPDATE_FLAGS) args.push('--dynamic-config-value', flag);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  if (options.dbFilename) {
    fs.mkdirSync(path.dirname(options.dbFilename), { recursive: true });
    args.push('--db-filename', options.dbFilename);
  }
  if (options.uiPort !== undefined) {
    args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  } else {
    args.push('--headless');
  }

  const output = options.output;
  const proc: ManagedProcess = supervisor.spawn('Temporal dev server', tools.temporalCli, args, {
    // The banner on stdout repeats what we print ourselves; shutdown chatter after stop() is noise.
    output: (line, stream) => {
      if (stream === 'stderr' && !proc.stopping && !KNOWN_NOISE.some((re) => re.test(line))) output?.(line, stream);
    },
  });
  const address = `${HOST}:${options.port}`;
  const abort = proc.exited.then((info) => Promise.reject(proc.exitError(info)));
  abort.catch(() => {});
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  await waitUntil(`Temporal dev server at ${address}`, () => canConnect(HOST, options.port), {
    timeoutMs,
    abort,
  });
  await waitUntil(`Temporal dev server at ${address} (gRPC)`, () => temporalAnswers(address, namespace), {
    timeoutMs,
    intervalMs: 200,
    abort,
  });
  return {
    address,
    namespace,
    uiUrl: options.uiPort !== undefined ? `http://${HOST}:${options.uiPort}` : undefined,
    process: proc,
  };
}

/** A real round trip: the frontend answers GetSystemInfo and knows the namespace. */
export async function temporalAnswers(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.workflowService.getSystemInfo({});
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}
