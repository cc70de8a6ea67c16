import { CommanderError } from 'commander';
import { ConfigError } from '../config';
import { EightByEightApiError } from '../eightbyeight/apiClient';
import { CliError } from './masklineApi';
import { createProgram } from './program';

// The entry point: run by bin/maskline.mjs (`npx maskline`), `npm run cli --`, or `node --import tsx src/cli/main.ts`.

async function main(): Promise<number> {
  try {
    await createProgram().parseAsync(process.argv);
    return 0;
  } catch (error) {
    // Commander has printed its own message (usage, unknown option, --help) already.
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError || error instanceof ConfigError || error instanceof EightByEightApiError) {
      process.stderr.write(`maskline: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`maskline: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
