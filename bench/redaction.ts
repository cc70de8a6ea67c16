/**
 * `node --import tsx bench/redaction.ts [--module <path to a redact.ts>] [--kb 32]`: the cost of the log redaction
 * (src/logging/redact.ts) per KB of one field, for typical log text and for the hostile shapes that made the
 * earlier regular expressions quadratic; `redactText` as the logger calls it, so with its cut of long fields. Not
 * part of `npm run bench`: it needs no stack. Figures are CPU time (user and system), so that a busy machine
 * slows them less than it would wall-clock time. `--module` measures another copy, e.g. the code before a change
 * (`git show <commit>:src/logging/redact.ts > /tmp/redact.before.ts`).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { module: { type: 'string' }, kb: { type: 'string', default: '32' } } });
const kb = Number(values.kb);

const shapes: Record<string, (length: number) => string> = {
  'log line (JSON, ids, a masked number)': (length) =>
    '{"msg":"call routed","workflowId":"booking-race-711-1009","runId":"01a23100-dec7-7420-826d-030d2adb55a5",' +
    '"caller":"+6591234567","at":"2026-11-25T10:00:00.123Z","took":12.5} '.repeat(Math.ceil(length / 170)),
  'stack trace': (length) =>
    '    at Object.<anonymous> (/srv/maskline/dist/src/http/routes/webhooks.js:112:27)\n'.repeat(
      Math.ceil(length / 80),
    ),
  prose: (length) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil(length / 27)),
  'digits after a letter': (length) => `a${'1'.repeat(length - 1)}`,
  digits: (length) => '1'.repeat(length),
  'spaces after a digit': (length) => `a1${' '.repeat(length - 2)}`,
  'the start of a date, again and again': (length) => `x${'20'.repeat(length / 2)}`,
  'digits then a date': (length) => `${'1'.repeat(length - 10)}2026-11-25`,
  'almost dates': (length) => `x${'2026-11-2'.repeat(Math.ceil(length / 9))}`,
  'phone numbers, one after another': (length) => '+65 9123 4567, '.repeat(Math.ceil(length / 15)),
};

async function main() {
  const modulePath = path.resolve(values.module ?? path.join(__dirname, '../src/logging/redact.ts'));
  const { redactText } = (await import(modulePath)) as { redactText: (text: string) => string };
  process.stdout.write(`redactText of ${modulePath}, one field of ${kb} KB\n`);
  process.stdout.write(`${'shape'.padEnd(40)} ${'CPU µs/KB'.padStart(10)} ${'CPU ms/field'.padStart(13)}\n`);
  for (const [shape, write] of Object.entries(shapes)) {
    const field = write(kb * 1024).slice(0, kb * 1024);
    redactText(field.slice(0, 1024)); // warm up
    let runs = 0;
    const started = process.cpuUsage();
    let elapsedMs = 0;
    // At least three runs, and at least half a second of them, unless one run alone takes longer.
    while (runs < 3 || elapsedMs < 500) {
      redactText(field);
      runs += 1;
      const used = process.cpuUsage(started);
      elapsedMs = (used.user + used.system) / 1000;
      if (elapsedMs > 10_000) break;
    }
    const perField = elapsedMs / runs;
    process.stdout.write(
      `${shape.padEnd(40)} ${((perField * 1000) / kb).toFixed(1).padStart(10)} ${perField.toFixed(3).padStart(13)}\n`,
    );
  }
}

void main();
