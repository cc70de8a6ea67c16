/**
 * `node --import tsx bench/phoneNumberNormalisation.ts`: what reading a number costs on the call-routing path.
 * A call action reads two numbers from 8x8's webhook (the caller, the virtual number) and sends two stored ones in
 * the callflow (the virtual number, the other party; already E.164, so only their form is checked). Compares
 * toE164 (src/domain/phoneNumbers.ts) with the regex it replaced, which kept a trunk prefix
 * (`+44 07911 123456`) and so disagreed with the party's registered number, and with libphonenumber's plain entry
 * points; then times the pure part of a call action (parsing the webhook, building the callflow). CPU only, one
 * core, no I/O: run it on a quiet machine, best of five rounds.
 */
import { getCountries, getExampleNumber, parsePhoneNumberFromString as parseMax } from 'libphonenumber-js/max';
import { parsePhoneNumberFromString as parseMin } from 'libphonenumber-js/min';
import examples from 'libphonenumber-js/mobile/examples';
import { toE164 } from '../src/domain/phoneNumbers';
import { connectCall, parseCallAction } from '../src/eightbyeight';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';

// The regex before this change (src/eightbyeight/phoneNumber.ts at 00554de), for comparison.
const SEPARATORS = /[\s-]/g;
const E164 = /^\+[1-9]\d{6,14}$/;
function regexToE164(raw: string): string | null {
  const compact = raw.replace(SEPARATORS, '');
  const candidate = compact.startsWith('+') ? compact : `+${compact}`;
  return E164.test(candidate) ? candidate : null;
}

const everyCountry = getCountries().flatMap((country) => {
  const example = getExampleNumber(country, examples);
  return example ? [example.number.slice(1)] : [];
});
// The call-action benchmark's numbers: Singapore's, as 8x8 writes them (digits, no `+`).
const singapore = Array.from({ length: 1_000 }, (_, i) => `65${9_000_0000 + i * 7919}`);
// A calling code several countries share (+44: GB, GG, IM, JE), where libphonenumber's country lookup costs most.
const unitedKingdom = Array.from({ length: 1_000 }, (_, i) => `447${700_000_000 + i * 7919}`);

function nsPerCall(read: (raw: string) => unknown, inputs: string[]): number {
  const runs = 300_000;
  for (let i = 0; i < 30_000; i++) read(inputs[i % inputs.length]!);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) read(inputs[i % inputs.length]!);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / runs);
  }
  return best;
}

const readers: [string, (raw: string) => unknown][] = [
  ['regex (before)', regexToE164],
  ['toE164 (now)', toE164],
  ['libphonenumber-js/min parse', (raw) => parseMin(`+${raw}`)?.number],
  ['libphonenumber-js/max parse', (raw) => parseMax(`+${raw}`)?.number],
];
const rows = readers.map(([name, read]) => {
  return {
    reader: name,
    'ns/number, 245 countries': Math.round(nsPerCall(read, everyCountry)),
    'ns/number, SG': Math.round(nsPerCall(read, singapore)),
    'ns/number, GB': Math.round(nsPerCall(read, unitedKingdom)),
  };
});
console.table(rows);

// The pure part of a call action as the HTTP server runs it: the webhook parsed, the callflow built.
const bodies = singapore.map((caller, i) => callReceived(`+${caller}`, `+656000${String(i % 1000).padStart(4, '0')}`));
let next = 0;
const perCallAction = nsPerCall(() => {
  const parsed = parseCallAction(bodies[next++ % bodies.length]);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return connectCall({ virtualNumber: parsed.value.destination, destination: '+6598765432' });
}, singapore);
console.log(`call action, webhook parsed and callflow built: ${(perCallAction / 1000).toFixed(2)} µs`);
