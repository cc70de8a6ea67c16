#!/usr/bin/env node
// `npx maskline <command>`: runs the TypeScript command line (src/cli/main.ts) under tsx, the way `npm start` runs
// the servers, so there is no build step. tsx is resolved from here, so any working directory will do.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import process from 'node:process';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const tsx = pathToFileURL(require.resolve('tsx')).href;
const entry = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

const child = spawnSync(process.execPath, ['--import', tsx, entry, ...process.argv.slice(2)], { stdio: 'inherit' });
if (child.error) throw child.error;
process.exitCode = child.status ?? 128 + (constants.signals[child.signal] ?? 0);
