import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a source file belongs: a package of node_modules, node itself, or our own file. */
function owner(url: string): string {
  if (url === '') return '(native / idle / gc)';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1]!;
  if (url.startsWith('node:')) return 'node:internals';
  const ours = /\/(src|bench|workflows|activities)\/(.*)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

/**
 * The self time of a V8 CPU profile (`node --cpu-prof`), by package or source file and by function: what the
 * process spent its CPU on, for finding what is slow.
 */
export function summarizeCpuProfile(file: string, top = 15) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let totalUs = 0;
  let idleUs = 0;
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const where = frame.url === '' ? frame.functionName : owner(frame.url);
    byOwner.set(where, (byOwner.get(where) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} ${owner(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const share = (entries: Map<string, number>) =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), percentOfBusy: Math.round((us / busyUs) * 1000) / 10 }));
  return {
    file: path.basename(file),
    wallMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    byOwner: share(byOwner),
    byFunction: share(byFunction),
  };
}

/** Every profile a process left in `dir` (one per process), summarized. */
export function summarizeProfilesIn(dir: string, top = 15) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => summarizeCpuProfile(path.join(dir, name), top));
}

/** One line: the packages and files that took most of the CPU. */
export function describeProfiles(summaries: ReturnType<typeof summarizeProfilesIn>, top = 8): string {
  return summaries
    .map(
      (s) =>
        `busy ${s.busyMs} ms: ${s.byOwner
          .slice(0, top)
          .map((o) => `${o.name} ${o.percentOfBusy}%`)
          .join(', ')}`,
    )
    .join(' | ');
}
