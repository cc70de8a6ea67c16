import fs from 'node:fs';
import os from 'node:os';

export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Mean and nearest-rank percentiles of a sample (same unit in, same unit out). */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    mean: sorted.length > 0 ? sum / sorted.length : NaN,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

export const elapsedMs = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;

/** Resident set size of a process, in MB, from /proc/<pid>/status (VmRSS); null once it is gone. */
export function residentMb(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; reports the largest value seen. */
export function sampleResidentMemory(pid: number, everyMs = 200) {
  const startMb = residentMb(pid) ?? 0;
  let maxMb = startMb;
  let samples = 1;
  const timer = setInterval(() => {
    const mb = residentMb(pid);
    if (mb === null) return;
    maxMb = Math.max(maxMb, mb);
    samples += 1;
  }, everyMs);
  return {
    stop(): { startMb: number; maxMb: number; samples: number } {
      clearInterval(timer);
      const last = residentMb(pid);
      if (last !== null) maxMb = Math.max(maxMb, last);
      return { startMb, maxMb, samples };
    },
  };
}

/** The machine, as the report describes it. */
export function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    node: process.version,
    kernel: os.release(),
  };
}

/** 1-minute load average: other work on this machine (other people's tests) skews every figure. */
export const loadAverage = () => Math.round(os.loadavg()[0]! * 100) / 100;

/** Times every method of an object (e.g. the store under the allocation step), per method name. */
export function timedMethods<T extends object>(target: T): { proxy: T; timings: Map<string, number[]>; reset(): void } {
  const timings = new Map<string, number[]>();
  const proxy = new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        const started = process.hrtime.bigint();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        } finally {
          const list = timings.get(property) ?? [];
          list.push(elapsedMs(started));
          timings.set(property, list);
        }
      };
    },
  });
  return { proxy, timings, reset: () => timings.clear() };
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, seconds) used so far by every live process of a process group, by the leader's own
 * children (PostgreSQL's backends make sessions of their own) and by the children these have reaped: a server and
 * the processes it started. The bench starts each process under test as the leader of a group of its own.
 */
export function groupCpuSeconds(pgid: number): number {
  let ticks = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    // cutime cstime
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid && Number(fields[1]) !== pgid) continue;
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds each named process group uses between start() and stop(). */
export function cpuMeter(groups: Record<string, number | undefined>) {
  const known = Object.entries(groups).filter((entry): entry is [string, number] => entry[1] !== undefined);
  let before: Map<string, number> = new Map();
  return {
    start() {
      before = new Map(known.map(([name, pgid]) => [name, groupCpuSeconds(pgid)]));
    },
    stop(): Record<string, number> {
      return Object.fromEntries(
        known.map(([name, pgid]) => [name, round(groupCpuSeconds(pgid) - (before.get(name) ?? 0), 2)]),
      );
    },
  };
}
