/**
 * The orphan guard of a Supervisor (see processes.ts), run as its own small process in its own session.
 *
 * The supervisor writes `+PID` when it starts a process group and `-PID` when that group is gone. When our stdin
 * reaches end-of-file the supervisor has ended: normally after stopping everything itself (nothing is left to
 * do), but if it was killed (SIGKILL, a crash) its servers would run on forever, each in a session of its own
 * where no terminal signal reaches it. We then stop what is left: newest group first, SIGTERM, and SIGKILL
 * after a grace period.
 */
import fs from 'node:fs';
import { groupAlive, processesWithEnv, signalGroup, stopProcesses } from './groups';

const GRACE_MS = 10_000;

const groups: number[] = [];
const environmentMarks: [string, string][] = [];
const abandonedDirectories: string[] = [];

async function stopAll(): Promise<void> {
  // First what runs against the servers (test files), then the servers.
  for (const [name, value] of environmentMarks) {
    const pids = processesWithEnv(name, value);
    if (pids.length === 0) continue;
    process.stderr.write(
      `maskline watchdog: supervisor is gone; stopping ${pids.length} process(es) with ${name}=${value}\n`,
    );
    await stopProcesses(pids, GRACE_MS);
  }
  for (const pgid of [...groups].reverse()) {
    if (!groupAlive(pgid)) continue;
    process.stderr.write(`maskline watchdog: supervisor is gone; stopping process group ${pgid}\n`);
    signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + GRACE_MS;
    while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  }
  for (const directory of abandonedDirectories) fs.rmSync(directory, { recursive: true, force: true });
  process.exit(0);
}

// A Ctrl-C in the terminal is for the supervisor, which stops everything in order; we only act on end-of-file.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGTERM', () => void stopAll());

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    if (line.startsWith('!')) {
      abandonedDirectories.push(line.slice(1));
      continue;
    }
    if (line.startsWith('=')) {
      const [name = '', ...value] = line.slice(1).split('=');
      environmentMarks.push([name, value.join('=')]);
      continue;
    }
    const pid = Number(line.slice(1));
    if (!Number.isInteger(pid) || pid <= 1) continue;
    if (line.startsWith('+')) {
      groups.push(pid);
    } else if (line.startsWith('-')) {
      const i = groups.indexOf(pid);
      if (i >= 0) groups.splice(i, 1);
    }
  }
});
process.stdin.on('end', () => void stopAll());
process.stdin.on('error', () => void stopAll());
