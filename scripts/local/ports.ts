import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port the kernel says is free right now (bind to port 0). Another process may take it before we use it. */
export function freePort(host = '127.0.0.1'): Promise<number> {
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
