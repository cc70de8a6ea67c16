import fs from 'node:fs';
import path from 'node:path';

/**
 * Where `npm test` collects every log line of the run (MASKLINE_TEST_LOG_DIR), so that it can check that no phone
 * number appears unmasked in any of them. Unset outside `npm test`: then nothing is written.
 */
export function keepForLogScan(source: string, lines: readonly string[]): void {
  const dir = process.env.MASKLINE_TEST_LOG_DIR;
  if (!dir || lines.length === 0) return;
  const file = path.join(dir, `${path.basename(process.argv[1] ?? 'process')}.${process.pid}.log`);
  fs.appendFileSync(file, lines.map((line) => `[${source}] ${line}\n`).join(''));
}
