import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A free port for a server we start, chosen below the kernel's ephemeral range. The servers we start pick ports of
 * their own for internal services by binding port 0 (the Temporal dev server does, for its history, matching and
 * worker services), and those come from the ephemeral range: a port we had taken there and let go could be handed to
 * one of them before our server binds it (seen: the dev server's worker service took its own frontend's port and
 * crashed). Another process may still take ours before we use it; the servers' start fails loudly then.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  for (let tries = 0; tries < 50 && ephemeralLow > low + 1_000; tries++) {
    const port = low + Math.floor(Math.random() * (ephemeralLow - low));
    if (await isPortFree(host, port)) return port;
  }
  return kernelPort(host);
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs
      .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high) return [low, high];
  } catch {
    // not Linux: the usual defaults
  }
  return [32_768, 60_999];
}

function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** One TCP connect attempt; true when something accepted it. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Calls `check` every `intervalMs` until it returns true, `abort` settles (e.g. the server process died), or
 * `timeoutMs` passes. Rejects with `what` in the message on timeout.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs, intervalMs = 100, abort }: { timeoutMs: number; intervalMs?: number; abort?: Promise<unknown> },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let aborted: unknown = undefined;
  let isAborted = false;
  void abort?.then(
    (v) => {
      aborted = v;
      isAborted = true;
    },
    (e: unknown) => {
      aborted = e;
      isAborted = true;
    },
  );
  for (;;) {
    if (isAborted) throw aborted instanceof Error ? aborted : new Error(`${what}: gave up`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(intervalMs);
  }
}
