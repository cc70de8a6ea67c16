import fs from 'node:fs';
import path from 'node:path';
import type { ManagedProcess } from '../scripts/local/processes';
import type { LoadResult, LoadSpec } from './loadSpec';
import { cpuMeter } from './measure';
import type { BenchStack } from './stack';

/** Credentials the processes under test run with: production mode, not development mode. */
export const API_KEY = 'bench-api-key-0123456789';
export const METRICS_TOKEN = 'bench-metrics-token-0123456789';
export const WEBHOOK_SECRET = 'bench-webhook-secret-0123456789';
export const ENCRYPTION_KEYS = `bench-key-1:${Buffer.alloc(32, 9).toString('base64')}`;

/** The environment of Maskline's own processes (src/server/main.ts, src/worker/main.ts). */
export function masklineEnvironment(
  stack: BenchStack,
  settings: { port?: number; database: string; taskQueue: string },
) {
  return {
    ...process.env,
    PORT: String(settings.port ?? 0),
    MONGODB_URI: stack.mongodbUri(settings.database),
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: settings.taskQueue,
    MASKLINE_API_KEY: API_KEY,
    MASKLINE_METRICS_TOKEN: METRICS_TOKEN,
    MASKLINE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    MASKLINE_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
    // The production default: every log line is written, as in production (to a file here).
    LOG_LEVEL: 'info',
  };
}

/** Spawns `node <script, compiled>` as a process of its own, its output going to a log file. */
function spawnScript(
  stack: BenchStack,
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  args: string[] = [],
  nodeOptions: string[] = [],
): ManagedProcess {
  const log = fs.createWriteStream(path.join(stack.logDir, `${name}.log`), { flags: 'a' });
  const proc = stack.supervisor.spawn(name, process.execPath, [...nodeOptions, stack.compiled(script), ...args], {
    env,
    output: (line) => log.write(`${line}\n`),
  });
  void proc.exited.then(() => log.end());
  return proc;
}

/** Starts a process under test and waits for its readiness line. */
export async function startProcess(
  stack: BenchStack,
  options: {
    name: string;
    script: string;
    env: NodeJS.ProcessEnv;
    ready: (line: string) => boolean;
    readyTimeoutMs?: number;
    /** Node options before the script, e.g. `--require` of a preload. */
    nodeOptions?: string[];
  },
): Promise<ManagedProcess> {
  const profiling = stack.profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(stack.profileDir, options.name)}`]
    : [];
  const proc = spawnScript(
    stack,
    options.name,
    options.script,
    options.env,
    [],
    [...profiling, ...(options.nodeOptions ?? [])],
  );
  try {
    await proc.waitForLine(options.ready, options.readyTimeoutMs ?? 60_000, 'readiness line');
  } catch (error) {
    await proc.stop(5_000);
    throw error;
  }
  return proc;
}

/**
 * Runs the load generator (bench/loadgen.ts) in a process of its own; killed if it overruns its time. With a
 * meter, counts the CPU time of the processes under test over the measured run (after the warm-up).
 */
export async function runLoadGenerator<Result = LoadResult>(
  stack: BenchStack,
  name: string,
  spec: LoadSpec,
  meter?: { start(): void; stop(): Record<string, number> },
): Promise<Result & { cpuSeconds: Record<string, number> }> {
  const proc = spawnScript(stack, `loadgen-${name}`, path.join(__dirname, 'loadgen.ts'), process.env, [
    JSON.stringify(spec),
  ]);
  // Both registered at once: no output line can arrive before this turn of the event loop ends.
  const drainSeconds = spec.lanes ? spec.lanes.drainSeconds * (spec.warmupSeconds > 0 ? 2 : 1) : 0;
  const boundMs = (spec.warmupSeconds + spec.durationSeconds + drainSeconds + 60) * 1000;
  const measuring = proc.waitForLine((l) => l === 'MEASURING', boundMs, 'the start of its measured run');
  const result = proc.waitForLine((l) => l.startsWith('RESULT '), boundMs, 'its result');
  // Handled here too, so that the one not awaited (when the other failed first) is no unhandled rejection.
  measuring.catch(() => undefined);
  result.catch(() => undefined);
  try {
    await measuring;
    // The load generator's own CPU too: it shares the machine's cores with what it measures.
    const ownMeter = cpuMeter({ loadgen: proc.pid });
    meter?.start();
    ownMeter.start();
    const line = await result;
    const cpuSeconds = meter ? { ...meter.stop(), ...ownMeter.stop() } : {};
    return { ...(JSON.parse(line.slice('RESULT '.length)) as Result), cpuSeconds };
  } finally {
    await proc.stop(5_000);
  }
}
