import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { getCountries, getExampleNumber, type PhoneNumber } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { parseValidPhoneNumber, toE164 } from '../src/domain/phoneNumbers';
import { callReceived } from '../src/eightbyeight/simulatedWebhooks';
import { api, startStack, uniqueId, webhook, type Stack } from '../harness/stack';

// Party numbers come from booking platforms and people; caller numbers from 8x8. Whichever way each writes a
// number, the two must be the same string, or the caller hears the notice instead of reaching the other party.

/** Every country's example number that libphonenumber ships (a mobile one), as libphonenumber reads it. */
const EXAMPLES: PhoneNumber[] = getCountries().flatMap((country) => getExampleNumber(country, examples) ?? []);

/** How platforms and people write a number: with or without `+`, spaces, dashes, brackets, a trunk prefix. */
function writtenByPeople(number: PhoneNumber): string[] {
  const cc = number.countryCallingCode;
  const nsn = number.nationalNumber;
  const international = number.formatInternational();
  const national = number.formatNational();
  const forms = [
    number.number,
    number.number.slice(1),
    international,
    international.replace(/ /g, '-'),
    international.slice(1),
    `+${cc} (${nsn.slice(0, 3)}) ${nsn.slice(3)}`,
    `+${cc}-${nsn.slice(0, 3)}-${nsn.slice(3)}`,
    // The trunk prefix after the country code, as people copy a national number behind it: `+44 07911 123456`.
    `+${cc} ${national}`,
  ];
  // Where the trunk prefix is 0 (not where the national number itself begins with 0, as in Benin's).
  if (national.replace(/\D/g, '') === `0${nsn}`) {
    forms.push(`+${cc} 0${nsn}`, `+${cc} (0)${nsn}`, `+${cc} (0) ${international.slice(cc.length + 2)}`);
  }
  return forms;
}

/** How 8x8 writes a number in its webhooks: digits with or without `+`, now and then with the trunk prefix. */
function writtenBy8x8(number: PhoneNumber): string[] {
  const nationalDigits = number.formatNational().replace(/\D/g, '');
  return [number.number, number.number.slice(1), `${number.countryCallingCode}${nationalDigits}`];
}

describe('one normalisation for party numbers and 8x8’s numbers', () => {
  it('covers every country libphonenumber has an example number for', () => {
    assert.ok(EXAMPLES.length >= 240, `${EXAMPLES.length} example numbers`);
  });

  it('a number a platform registered and the same number as 8x8 reports it are one and the same, in every country', () => {
    const disagreements: string[] = [];
    for (const example of EXAMPLES) {
      for (const form of writtenByPeople(example)) {
        const registered = parseValidPhoneNumber(form)?.e164 ?? null;
        if (registered !== example.number) disagreements.push(`${example.country} registered ${form} -> ${registered}`);
      }
      for (const form of [...writtenBy8x8(example), ...writtenByPeople(example)]) {
        const reported = toE164(form);
        if (reported !== example.number) disagreements.push(`${example.country} 8x8 ${form} -> ${reported}`);
      }
    }
    assert.deepEqual(disagreements.slice(0, 20), [], `${disagreements.length} disagreements`);
  });

  it('whatever digits come in, a number valid enough to register reads the same from 8x8', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9]\d{6,14}$/), fc.boolean(), (digits, plus) => {
        const registered = parseValidPhoneNumber(`+${digits}`);
        if (!registered) return;
        assert.equal(toE164(plus ? `+${digits}` : digits), registered.e164);
      }),
      { numRuns: 5_000 },
    );
  });

  it('a number in a range the numbering plan does not know yet is still read from 8x8, though not registered', () => {
    // Singapore has no numbers beginning 1 today; 8x8 may route such a range before libphonenumber lists it.
    assert.equal(parseValidPhoneNumber('+6512345678'), null);
    for (const form of ['6512345678', '+6512345678', '+65 1234 5678', '65-1234-5678']) {
      assert.equal(toE164(form), '+6512345678', form);
    }
  });

  it('reading a number it has read changes nothing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\+?[0-9 ()-]{0,24}$/)), (raw) => {
        const e164 = toE164(raw);
        if (e164 === null) return;
        assert.match(e164, /^\+[1-9]\d{6,14}$/);
        assert.equal(toE164(e164), e164);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('a caller whose number 8x8 writes with the trunk prefix', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    await api(stack, 'POST', '/v1/numbers', { number: '+6560009001' });
  });
  after(() => stack.stop());

  it('reaches the other party of their booking, as written any other way', async () => {
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId: uniqueId('trunk'),
      parties: [
        { role: 'rider', number: '+44 07911 123456' },
        { role: 'driver', number: '+65 9876 9001' },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.parties[0].number, '+447911123456');
    for (const caller of ['+4407911123456', '447911123456', '+44 (0)7911 123456']) {
      const body = callReceived('+447911123456', created.body.virtualNumber);
      body.payload.source = caller;
      const answer = await webhook(stack, '/call-action', body);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.callflow[0].action, 'makeCall', caller);
      assert.equal(answer.body.callflow[0].params.destination, '+6598769001', caller);
    }
  });
});
