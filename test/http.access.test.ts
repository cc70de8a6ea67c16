import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callReceived } from './support/eightbyeightPayloads';
import { API_KEY, WEBHOOK_SECRET, startStack, type Stack } from './support/stack';

const API_ROUTES: [string, string][] = [
  ['GET', '/v1/numbers'],
  ['POST', '/v1/numbers'],
  ['DELETE', '/v1/numbers/%2B6560000001'],
  ['POST', '/v1/bookings'],
  ['GET', '/v1/bookings/ride-1'],
  ['POST', '/v1/bookings/ride-1/complete'],
  ['POST', '/v1/bookings/ride-1/cancel'],
];
const WEBHOOK_ROUTES = [
  '/webhooks/8x8/call-action',
  '/webhooks/8x8/call-status',
  '/webhooks/8x8/session-summary',
  '/webhooks/8x8',
];

async function send(stack: Stack, method: string, path: string, authorization?: string, body: unknown = {}) {
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
}

describe('access to the API and the webhooks', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  for (const [method, path] of API_ROUTES) {
    it(`${method} ${path} refuses a missing or wrong API key with 401`, async () => {
      for (const authorization of [undefined, 'Bearer wrong-key-0123456789', API_KEY, `Basic ${API_KEY}`]) {
        const answer = await send(stack, method, path, authorization);
        assert.equal(answer.status, 401, `authorization ${authorization}`);
        assert.equal(answer.body.error?.code, 'unauthorized');
      }
    });
  }

  for (const path of WEBHOOK_ROUTES) {
    it(`${path} refuses a missing or wrong webhook secret with 401`, async () => {
      for (const authorization of [undefined, 'wrong-secret-0123456789', `${WEBHOOK_SECRET}x`]) {
        const answer = await send(stack, 'POST', path, authorization, callReceived('+6591234567', '+6560000001'));
        assert.equal(answer.status, 401);
        assert.equal(answer.body.error?.code, 'unauthorized');
      }
    });
  }

  it('the same requests with the right credentials get past the door', async () => {
    assert.equal((await send(stack, 'GET', '/v1/numbers', `Bearer ${API_KEY}`)).status, 200);
    const call = await send(
      stack,
      'POST',
      '/webhooks/8x8/call-action',
      WEBHOOK_SECRET,
      callReceived('+6591234567', '+6560000001'),
    );
    assert.equal(call.status, 200);
  });
});

describe('the webhook source allow-list', () => {
  it('refuses webhooks from addresses off the list with 403, before looking at the secret', async () => {
    const stack = await startStack({ env: { MASKLINE_WEBHOOK_ALLOWED_SOURCES: '18.140.80.2,52.220.253.0/24' } });
    try {
      const answer = await send(
        stack,
        'POST',
        '/webhooks/8x8/call-action',
        WEBHOOK_SECRET,
        callReceived('+6591234567', '+6560000001'),
      );
      assert.equal(answer.status, 403);
      assert.equal(answer.body.error?.code, 'forbidden_source');
      // The booking platform's API is not subject to the webhook allow-list.
      assert.equal((await send(stack, 'GET', '/v1/numbers', `Bearer ${API_KEY}`)).status, 200);
    } finally {
      await stack.stop();
    }
  });

  it('accepts webhooks from an address on the list', async () => {
    const stack = await startStack({ env: { MASKLINE_WEBHOOK_ALLOWED_SOURCES: '18.140.80.2, 127.0.0.0/8' } });
    try {
      const answer = await send(
        stack,
        'POST',
        '/webhooks/8x8/call-action',
        WEBHOOK_SECRET,
        callReceived('+6591234567', '+6560000001'),
      );
      assert.equal(answer.status, 200);
    } finally {
      await stack.stop();
    }
  });

  it('does not let a client claim an allowed address through X-Forwarded-For unless the proxy is trusted', async () => {
    const stack = await startStack({ env: { MASKLINE_WEBHOOK_ALLOWED_SOURCES: '18.140.80.2' } });
    try {
      const response = await fetch(`${stack.baseUrl}/webhooks/8x8/call-action`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: WEBHOOK_SECRET,
          'x-forwarded-for': '18.140.80.2',
        },
        body: JSON.stringify(callReceived('+6591234567', '+6560000001')),
      });
      assert.equal(response.status, 403);
    } finally {
      await stack.stop();
    }
  });
});
