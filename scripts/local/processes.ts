import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupAlive, signalGroup } from './groups';
import { repoRoot } from './paths';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
}

export type LineSink = (line: string, stream: 'stdout' | 'stderr') => void;

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Receives every output line; default: dropped (the last lines are still kept for error messages). */
  output?: LineSink;
  /** Whether exit errors repeat the last output lines; pointless when `output` already shows every line. */
  tailInErrors?: boolean;
  /** Run as this user and group (only root may): PostgreSQL refuses to run as root. */
  uid?: number;
  gid?: number;
  /**
   * How stop() asks the process to end; default SIGTERM to its whole group. A server that stops its own children
   * in order (PostgreSQL's postmaster) gets its signal alone: SIGTERM to one of its children reads as a crash.
   */
  stopSignal?: { signal: NodeJS.Signals; leaderOnly: boolean };
}

const TAIL_LINES = 40;

/**
 * A child process in a process group of its own (a new session, so a Ctrl-C in the terminal reaches only the
 * supervisor, which then stops the children in order). Stopping signals the whole group.
 */
export class ManagedProcess {
  readonly exited: Promise<ExitInfo>;
  /** True once stop() was called: an exit after that is expected. */
  stopping = false;
  exitInfo: ExitInfo | undefined;
  private readonly tail: string[] = [];
  private readonly waiters = new Set<(line: string) => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    output: LineSink | undefined,
    private readonly tailInErrors = true,
    private readonly stopSignal: { signal: NodeJS.Signals; leaderOnly: boolean } = {
      signal: 'SIGTERM',
      leaderOnly: false,
    },
  ) {
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        // 'error' without 'exit' means it never started.
        if (child.pid === undefined) resolve((this.exitInfo = { code: null, signal: null, error }));
      });
      child.once('exit', (code, signal) => resolve((this.exitInfo = { code, signal })));
    });
    const onLine = (stream: 'stdout' | 'stderr') => (line: string) => {
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      for (const waiter of this.waiters) waiter(line);
      output?.(line, stream);
    };
    if (child.stdout) readline.createInterface({ input: child.stdout }).on('line', onLine('stdout'));
    if (child.stderr) readline.createInterface({ input: child.stderr }).on('line', onLine('stderr'));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last output lines, for error messages. */
  recentOutput(): string {
    return this.tail.join('\n');
  }

  /** Resolves with the first output line that matches; rejects when the process exits first or on timeout. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        fn();
      };
      const waiter = (line: string) => {
        if (match(line)) finish(() => resolve(line));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${this.name}: ${what} did not happen within ${timeoutMs / 1000} s`))),
        timeoutMs,
      );
      this.waiters.add(waiter);
      void this.exited.then((info) => finish(() => reject(this.exitError(info))));
    });
  }

  /** An error describing an exit, with the last output lines. */
  exitError(info: ExitInfo): Error {
    const how = info.error
      ? `could not be started (${info.error.message})`
      : `exited with ${info.signal ? `signal ${info.signal}` : `code ${info.code}`}`;
    const output = this.tailInErrors ? this.recentOutput() : '';
    return new Error(`${this.name} ${how}${output ? `; its last output:\n${output}` : ''}`);
  }

  /**
   * SIGTERM to the whole process group (or the stop signal it was spawned with), then SIGKILL to the group if it
   * is still there after `timeoutMs`. Resolves once the process has exited.
   */
  async stop(timeoutMs = 10_000): Promise<ExitInfo> {
    this.stopping = true;
    const pid = this.pid;
    if (pid === undefined) return this.exited;
    if (!this.exitInfo) {
      if (this.stopSignal.leaderOnly) {
        try {
          process.kill(pid, this.stopSignal.signal);
        } catch {
          // already gone
        }
      } else {
        signalGroup(pid, this.stopSignal.signal);
      }
    }
    const deadline = Date.now() + timeoutMs;
    while ((!this.exitInfo || groupAlive(pid)) && Date.now() < deadline) await sleep(50);
    if (!this.exitInfo || groupAlive(pid)) {
      process.stderr.write(`${this.name} did not stop within ${timeoutMs / 1000} s; killing it\n`);
      signalGroup(pid, 'SIGKILL');
    }
    return this.exited;
  }
}

/**
 * Starts child processes so that none outlives us: each child leads its own process group, and a watchdog
 * process (watchdog.ts) learns every group; if this process dies without stopping them, the watchdog sees its
 * stdin close and stops them.
 */
export class Supervisor {
  private readonly watchdog: ChildProcess;
  readonly processes: ManagedProcess[] = [];

  constructor() {
    this.watchdog = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'watchdog.ts')], {
      cwd: repoRoot,
      detached: true,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    // Neither the watchdog nor its pipe may keep our event loop alive.
    this.watchdog.unref();
    (this.watchdog.stdin as unknown as { unref?: () => void }).unref?.();
    this.watchdog.stdin?.on('error', () => {});
  }

  spawn(name: string, command: string, args: string[], options: SpawnOptions = {}): ManagedProcess {
    const child = spawn(command, args, {
      cwd: repoRoot,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    const managed = new ManagedProcess(name, child, options.output, options.tailInErrors, options.stopSignal);
    const pid = child.pid;
    if (pid !== undefined) {
      this.watchdog.stdin?.write(`+${pid}\n`);
      void managed.exited.then(async () => {
        // Give the rest of the group a moment to follow its leader before we stop watching it.
        for (let i = 0; i < 50 && groupAlive(pid); i++) await sleep(100);
        if (!groupAlive(pid)) this.watchdog.stdin?.write(`-${pid}\n`);
      });
    }
    this.processes.push(managed);
    return managed;
  }

  /**
   * If we die, the watchdog also stops every process whose environment holds name=value (processes that are not
   * ours to put in a group of their own, such as node:test's test-file processes).
   */
  watchEnvironment(name: string, value: string): void {
    this.watchdog.stdin?.write(`=${name}=${value}\n`);
  }

  /** If we die, the watchdog deletes this directory once it has stopped everything (e.g. a temporary store). */
  removeIfAbandoned(directory: string): void {
    this.watchdog.stdin?.write(`!${directory}\n`);
  }

  /** Stops every process still running, newest first, then lets the watchdog go. */
  async close(timeoutMs = 10_000): Promise<void> {
    for (const p of [...this.processes].reverse()) await p.stop(timeoutMs);
    this.watchdog.stdin?.end();
  }

  /** Last resort on a second Ctrl-C: SIGKILL every group at once. */
  killAll(): void {
    for (const p of this.processes) if (p.pid !== undefined) signalGroup(p.pid, 'SIGKILL');
    this.watchdog.stdin?.end();
  }
}
