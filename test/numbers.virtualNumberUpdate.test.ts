import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { callReceived, virtualNumberUpdate } from '../src/eightbyeight/simulatedWebhooks';
import { api, startStack, uniqueId, webhook, type Stack } from '../harness/stack';

// 8x8's VIRTUAL_NUMBER_UPDATE webhook, through the real endpoint, keeps the pool in step with the subaccount.

const SUBACCOUNT = 'maskline_vnu-test';
const RIDER = '+6591234567';
const DRIVER = '+6598765432';

describe('8x8 tells us about the virtual numbers of the subaccount (VNU webhook)', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      env: { EIGHTX8_API_KEY: 'unused-by-these-tests', EIGHTX8_SUBACCOUNT_ID: SUBACCOUNT },
    });
  });
  beforeEach(() => stack.database.collections.numbers.deleteMany({}));
  after(() => stack.stop());

  const statuses = async () => {
    const answer = await api(stack, 'GET', '/v1/numbers');
    return Object.fromEntries(answer.body.numbers.map((n: { number: string; status: string }) => [n.number, n.status]));
  };
  const addNumber = async (number: string) =>
    assert.equal((await api(stack, 'POST', '/v1/numbers', { number })).status, 201);

  it('a snapshot adds new Active numbers, disables the ones that are not Active, and drains the ones it omits', async () => {
    await addNumber('+6560000001');
    await addNumber('+6560000002');
    await addNumber('+6560000003');
    const snapshot = virtualNumberUpdate({
      subAccountId: SUBACCOUNT,
      updateEventType: 'SNAPSHOT',
      virtualNumbers: [
        { number: '+6560000001', operationalStatus: 'Active' },
        { number: '+6560000002', operationalStatus: 'Expiring' },
        { number: '+6560000004', operationalStatus: 'Active' },
        { number: '+6560000005', operationalStatus: 'Unhealthy' },
      ],
    });
    const answer = await webhook(stack, '', snapshot);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      received: true,
      outcome: 'applied',
      numbers: { added: 1, changed: 1, draining: 1, unchanged: 1 },
    });
    assert.deepEqual(await statuses(), {
      '+6560000001': 'active',
      '+6560000002': 'disabled',
      '+6560000003': 'draining',
      '+6560000004': 'active',
    });
  });

  it('updates touch only the numbers they list, and bring a recovered number back', async () => {
    await addNumber('+6560000001');
    await addNumber('+6560000002');
    const unhealthy = virtualNumberUpdate({
      subAccountId: SUBACCOUNT,
      updateEventType: 'UPDATES',
      totalNumbers: 2,
      virtualNumbers: [{ number: '+6560000001', operationalStatus: 'Unhealthy' }],
    });
    assert.deepEqual((await webhook(stack, '', unhealthy)).body.numbers, {
      added: 0,
      changed: 1,
      draining: 0,
      unchanged: 0,
    });
    assert.deepEqual(await statuses(), { '+6560000001': 'disabled', '+6560000002': 'active' });

    const recovered = virtualNumberUpdate({
      subAccountId: SUBACCOUNT,
      updateEventType: 'UPDATES',
      virtualNumbers: [{ number: '+6560000001', operationalStatus: 'Active' }],
    });
    await webhook(stack, '', recovered);
    assert.deepEqual(await statuses(), { '+6560000001': 'active', '+6560000002': 'active' });
  });

  it('a number going Inactive takes no new bookings, while the booking that holds it still connects calls', async () => {
    await addNumber('+6560000001');
    const bookingId = uniqueId('ride');
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: RIDER },
        { role: 'driver', number: DRIVER },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.virtualNumber, '+6560000001');

    await webhook(
      stack,
      '',
      virtualNumberUpdate({
        subAccountId: SUBACCOUNT,
        updateEventType: 'UPDATES',
        virtualNumbers: [{ number: '+6560000001', operationalStatus: 'Inactive' }],
      }),
    );

    const call = await webhook(stack, '/call-action', callReceived(RIDER, '+6560000001'));
    assert.deepEqual(call.body.callflow, [
      { action: 'makeCall', params: { source: '+6560000001', destination: DRIVER } },
    ]);
    const refused = await api(stack, 'POST', '/v1/bookings', {
      bookingId: uniqueId('ride'),
      parties: [
        { role: 'rider', number: '+6581112222' },
        { role: 'driver', number: '+6583334444' },
      ],
    });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'no_number_available');
    await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
  });

  it('a snapshot that lists fewer numbers than its total drains nothing', async () => {
    await addNumber('+6560000001');
    await addNumber('+6560000002');
    const partial = virtualNumberUpdate({
      subAccountId: SUBACCOUNT,
      updateEventType: 'SNAPSHOT',
      totalNumbers: 2,
      virtualNumbers: [{ number: '+6560000001', operationalStatus: 'Active' }],
    });
    assert.equal((await webhook(stack, '', partial)).body.numbers.draining, 0);
    assert.deepEqual(await statuses(), { '+6560000001': 'active', '+6560000002': 'active' });
  });

  it('a snapshot without totalNumbers cannot be known complete: it drains nothing, and applies what it lists', async () => {
    await addNumber('+6560000001');
    await addNumber('+6560000002');
    await addNumber('+6560000003');
    const snapshot = virtualNumberUpdate({
      subAccountId: SUBACCOUNT,
      updateEventType: 'SNAPSHOT',
      virtualNumbers: [
        { number: '+6560000001', operationalStatus: 'Active' },
        { number: '+6560000002', operationalStatus: 'Expiring' },
      ],
    });
    delete (snapshot.payload as { totalNumbers?: number }).totalNumbers;
    const answer = await webhook(stack, '', snapshot);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.numbers, { added: 0, changed: 1, draining: 0, unchanged: 1 });
    assert.deepEqual(await statuses(), {
      '+6560000001': 'active',
      '+6560000002': 'disabled',
      '+6560000003': 'active',
    });
  });

  it('a number drained because 8x8 stopped listing it takes bookings again once an operator restores it', async () => {
    await addNumber('+6560000001');
    const empty = virtualNumberUpdate({ subAccountId: SUBACCOUNT, updateEventType: 'SNAPSHOT', virtualNumbers: [] });
    assert.equal((await webhook(stack, '', empty)).body.numbers.draining, 1);
    const booking = {
      parties: [
        { role: 'rider', number: '+6591230001' },
        { role: 'driver', number: '+6598760001' },
      ],
    };
    const refused = await api(stack, 'POST', '/v1/bookings', { bookingId: uniqueId('ride'), ...booking });
    assert.equal(refused.status, 409);

    const restored = await api(stack, 'POST', '/v1/numbers/%2B6560000001/restore');
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.equal(restored.body.status, 'active');
    const bookingId = uniqueId('ride');
    const created = await api(stack, 'POST', '/v1/bookings', { bookingId, ...booking });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.virtualNumber, '+6560000001');
    await api(stack, 'POST', `/v1/bookings/${bookingId}/cancel`);
  });

  it('an update about another subaccount is received and ignored, so it cannot empty our pool', async () => {
    await addNumber('+6560000001');
    const foreign = virtualNumberUpdate({
      subAccountId: 'someone-else',
      updateEventType: 'SNAPSHOT',
      virtualNumbers: [],
    });
    const answer = await webhook(stack, '', foreign);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { received: true, outcome: 'ignored' });
    assert.deepEqual(await statuses(), { '+6560000001': 'active' });
  });

  it('an update without the webhook credential is refused and changes nothing', async () => {
    await addNumber('+6560000001');
    const snapshot = virtualNumberUpdate({ subAccountId: SUBACCOUNT, updateEventType: 'SNAPSHOT', virtualNumbers: [] });
    assert.equal((await webhook(stack, '', snapshot, 'wrong-secret')).status, 401);
    assert.deepEqual(await statuses(), { '+6560000001': 'active' });
  });
});
