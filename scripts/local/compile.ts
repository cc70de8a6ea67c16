import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths';

/** Files of the sources that the compiled code reads at run time; `npm run build` copies them into dist/ too. */
export const BUILD_ASSETS = ['src/operations/dashboard'];

/**
 * Compiles a TypeScript project of this repository (`tsconfig.build.json`, as `npm run build` does, or another)
 * into `outDir`, laid out as the production image lays out dist/: the compiled files find their dependencies
 * through a node_modules beside them.
 */
export async function compileProject(project: string, outDir: string): Promise<void> {
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', project, '--outDir', outDir], { cwd: repoRoot });
  for (const asset of BUILD_ASSETS) {
    fs.cpSync(path.join(repoRoot, asset), path.join(outDir, asset), { recursive: true });
  }
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(outDir, 'node_modules'));
}
