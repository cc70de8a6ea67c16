import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { METADATA_ENCODING_KEY, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logging/logger';
import { createHttpApplication } from '../src/server/httpApplication';
import {
  DEVELOPMENT_KEY,
  EncryptionCodec,
  KEY_ID_METADATA,
  createDataConverter,
  type EncryptionKey,
} from '../src/temporal/payloadEncryption';
import { createBookingWorker } from '../src/worker/bookingWorker';
import { bookingStateQuery, bookingWorkflowId, closeBookingUpdate } from '../src/bookings/contract';
import { CODEC_TOKEN, CapturedLogs, api, startStack, uniqueId, type Stack } from '../harness/stack';

const key = (id: string, fill: number): EncryptionKey => ({ id, key: Buffer.alloc(32, fill) });
const OLD = key('2025-01', 1);
const NEW = key('2026-06', 2);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString();
const party = { role: 'rider', number: '+6591234567' };

describe('payload encryption', () => {
  it('encrypts a payload so that its value and encoding are unreadable, and decrypts it back', async () => {
    const codec = new EncryptionCodec([NEW]);
    const plain = defaultPayloadConverter.toPayload(party);
    const [encrypted] = await codec.encode([plain]);
    assert.ok(encrypted);
    assert.equal(text(encrypted.metadata?.[METADATA_ENCODING_KEY]), 'binary/encrypted');
    assert.equal(text(encrypted.metadata?.[KEY_ID_METADATA]), '2026-06');
    assert.ok(
      !Buffer.from(encrypted.data ?? [])
        .toString('latin1')
        .includes('91234567'),
    );
    assert.ok(
      !Buffer.from(encrypted.data ?? [])
        .toString('latin1')
        .includes('json/plain'),
    );
    const [decrypted] = await codec.decode([encrypted]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decrypted as Payload), party);
  });

  it('never encrypts the same value to the same bytes', async () => {
    const codec = new EncryptionCodec([NEW]);
    const plain = defaultPayloadConverter.toPayload(party);
    const [a, b] = await codec.encode([plain, plain]);
    assert.notDeepEqual(Buffer.from(a?.data ?? []), Buffer.from(b?.data ?? []));
  });

  it('after a rotation, data written with the old key stays readable and new data uses the new key', async () => {
    const [written] = await new EncryptionCodec([OLD]).encode([defaultPayloadConverter.toPayload(party)]);
    const rotated = new EncryptionCodec([NEW, OLD]);
    const [read] = await rotated.decode([written as Payload]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(read as Payload), party);
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload(party)]);
    assert.equal(text(fresh?.metadata?.[KEY_ID_METADATA]), '2026-06');
  });

  it('refuses data whose key was removed, naming the key, and data that was altered', async () => {
    const [written] = await new EncryptionCodec([OLD]).encode([defaultPayloadConverter.toPayload(party)]);
    await assert.rejects(new EncryptionCodec([NEW]).decode([written as Payload]), /key "2025-01"/);
    const altered = Buffer.from(written?.data ?? []);
    altered[20] = (altered[20] ?? 0) ^ 1;
    await assert.rejects(new EncryptionCodec([OLD]).decode([{ ...written, data: altered }]), /does not decrypt/);
  });

  it('passes payloads that were never encrypted through unchanged', async () => {
    const plain = defaultPayloadConverter.toPayload({ bookingId: 'b-1' });
    assert.deepEqual(await new EncryptionCodec([NEW]).decode([plain]), [plain]);
  });
});

describe('encryption keys in the configuration', () => {
  const production = { MASKLINE_API_KEY: 'a'.repeat(16), MASKLINE_WEBHOOK_SECRET: 'b'.repeat(16) };
  const base64Key = Buffer.alloc(32, 9).toString('base64');

  it('reads keyId:base64 pairs, newest first', () => {
    const config = loadConfig({
      ...production,
      MASKLINE_ENCRYPTION_KEYS: `k2:${base64Key}, k1:${Buffer.alloc(32, 8).toString('base64')}`,
    });
    assert.deepEqual(
      config.encryptionKeys.map((k) => k.id),
      ['k2', 'k1'],
    );
    assert.equal(config.developmentEncryptionKey, false);
  });

  it('stops on a bad value, naming the variable but never the key material', () => {
    for (const bad of [
      'k1',
      `k1:${Buffer.alloc(16).toString('base64')}`,
      `k1:${base64Key},k1:${base64Key}`,
      'k 1:abc',
    ]) {
      assert.throws(
        () => loadConfig({ ...production, MASKLINE_ENCRYPTION_KEYS: bad }),
        (error: unknown) =>
          error instanceof ConfigError &&
          /MASKLINE_ENCRYPTION_KEYS/.test(error.message) &&
          !error.message.includes(base64Key),
        bad,
      );
    }
  });

  it('is required in production, and is the labelled development key in development mode', () => {
    assert.throws(() => loadConfig(production), /MASKLINE_ENCRYPTION_KEYS: required/);
    const development = loadConfig({ MASKLINE_DEVELOPMENT_MODE: 'true' });
    assert.equal(development.developmentEncryptionKey, true);
    assert.deepEqual(development.encryptionKeys, [DEVELOPMENT_KEY]);
    assert.match(DEVELOPMENT_KEY.id, /development.*not-secret/);
  });
});

describe('the codec endpoint for the Temporal UI', () => {
  let stack: Stack;
  const UI = 'http://127.0.0.1:8233';

  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  const codec = (
    path: string,
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${CODEC_TOKEN}` },
    baseUrl = stack.baseUrl,
  ) =>
    fetch(`${baseUrl}/codec${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: JSON.stringify(body),
    });

  const asJson = (payload: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  });

  it('encodes and decodes payloads in the UI protocol, newest key first', async () => {
    const plain = asJson(defaultPayloadConverter.toPayload(party));
    const encoded = await codec('/encode', { payloads: [plain] });
    assert.equal(encoded.status, 200);
    const { payloads: encrypted } = (await encoded.json()) as {
      payloads: { metadata: Record<string, string>; data: string }[];
    };
    assert.equal(Buffer.from(encrypted[0]?.metadata.encoding ?? '', 'base64').toString(), 'binary/encrypted');
    assert.equal(Buffer.from(encrypted[0]?.metadata[KEY_ID_METADATA] ?? '', 'base64').toString(), 'test-key-1');

    const decoded = await codec('/decode', { payloads: encrypted });
    assert.equal(decoded.status, 200);
    assert.deepEqual(await decoded.json(), { payloads: [plain] });
  });

  it('answers 401 to a missing or wrong codec token, with the CORS headers the browser needs to read it', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: 'Bearer x' },
    ];
    for (const headers of attempts) {
      const answer = await codec('/decode', { payloads: [] }, { ...headers, origin: UI });
      assert.equal(answer.status, 401);
      assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'unauthorized');
      assert.equal(answer.headers.get('access-control-allow-origin'), UI);
    }
  });

  it('answers 400 to a body that is not a list of payloads, and 422 to a payload it cannot decrypt', async () => {
    assert.equal((await codec('/decode', { payloads: [{ data: 'not base64!' }] })).status, 400);
    assert.equal((await codec('/decode', { nothing: true })).status, 400);
    const [foreign] = await new EncryptionCodec([OLD]).encode([defaultPayloadConverter.toPayload(party)]);
    const answer = await codec('/decode', { payloads: [asJson(foreign as Payload)] });
    assert.equal(answer.status, 422);
    assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'undecodable_payload');
  });

  it("answers the UI's preflight: its origin, credentials, and the headers it sends", async () => {
    for (const origin of ['http://127.0.0.1:8233', 'http://localhost:8233']) {
      const answer = await fetch(`${stack.baseUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
      assert.equal(answer.status, 204);
      assert.equal(answer.headers.get('access-control-allow-origin'), origin);
      assert.equal(answer.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(answer.headers.get('access-control-allow-headers'), 'Content-Type, Authorization, X-Namespace');
      assert.match(answer.headers.get('access-control-allow-methods') ?? '', /POST/);
    }
  });

  it('gives other origins no CORS permission', async () => {
    const answer = await fetch(`${stack.baseUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
    const post = await codec(
      '/decode',
      { payloads: [] },
      { authorization: `Bearer ${CODEC_TOKEN}`, origin: 'https://evil.example' },
    );
    assert.equal(post.headers.get('access-control-allow-origin'), null);
  });

  it('is open without a token in development mode, and closed without one in production', async () => {
    const serve = async (overrides: Partial<Stack['config']>) => {
      const config = { ...stack.config, ...overrides };
      const logger = createLogger({ level: 'silent', destination: new CapturedLogs() });
      const { app } = createHttpApplication(config, { database: stack.database, temporal: stack.temporal, logger });
      const server: Server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    };
    const development = await serve({ codecToken: null, developmentMode: true, apiKey: null });
    const production = await serve({ codecToken: null });
    try {
      assert.equal((await codec('/decode', { payloads: [] }, {}, development.baseUrl)).status, 200);
      const closed = await codec(
        '/decode',
        { payloads: [] },
        { authorization: 'Bearer anything-at-all-here' },
        production.baseUrl,
      );
      assert.equal(closed.status, 401);
      assert.match(((await closed.json()) as { error: { message: string } }).error.message, /MASKLINE_CODEC_TOKEN/);
    } finally {
      for (const { server } of [development, production]) {
        server.closeAllConnections();
        server.close();
      }
    }
  });
});

describe('rotating the key under a live booking', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack();
    await api(stack, 'POST', '/v1/numbers', { number: '+6560009001' });
  });
  after(() => stack.stop());

  it('a booking started under the old key is still read and closed after the new key is put first, which new data uses', async () => {
    const bookingId = uniqueId('rotated');
    const created = await api(stack, 'POST', '/v1/bookings', {
      bookingId,
      parties: [
        { role: 'rider', number: '+6591239001' },
        { role: 'driver', number: '+6598769001' },
      ],
    });
    assert.equal(created.status, 201);
    const [oldKey] = stack.config.encryptionKeys;
    assert.ok(oldKey);

    // Every process restarts with the new key first and the old one kept.
    await stack.stopWorker();
    const rotated = [NEW, oldKey];
    const connection = await NativeConnection.connect({ address: stack.config.temporalAddress });
    const worker = await createBookingWorker({
      connection,
      namespace: stack.config.temporalNamespace,
      taskQueue: stack.config.temporalTaskQueue,
      database: stack.database,
      encryptionKeys: rotated,
    });
    const running = worker.run();
    try {
      const client = new Client({
        connection: stack.temporal.connection,
        namespace: stack.config.temporalNamespace,
        dataConverter: createDataConverter(rotated),
      });
      const handle = client.workflow.getHandle(bookingWorkflowId(bookingId));
      const booking = await handle.query(bookingStateQuery);
      assert.equal(booking.parties[0]?.number, '+6591239001');
      await handle.executeUpdate(closeBookingUpdate, { args: ['cancel'] });
      assert.equal((await handle.result()).status, 'cancelled');

      const plain = new Client({ connection: stack.temporal.connection, namespace: stack.config.temporalNamespace });
      const history = await plain.workflow.getHandle(bookingWorkflowId(bookingId)).fetchHistory();
      const keyOf = (payloads: Payload[] | null | undefined) => text(payloads?.[0]?.metadata?.[KEY_ID_METADATA]);
      const events = history.events ?? [];
      const started = events.find((e) => e.workflowExecutionStartedEventAttributes);
      const cancel = events.find(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'closeBooking',
      );
      const completed = events.find((e) => e.workflowExecutionCompletedEventAttributes);
      assert.equal(keyOf(started?.workflowExecutionStartedEventAttributes?.input?.payloads), oldKey.id);
      assert.equal(
        keyOf(cancel?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads),
        NEW.id,
      );
      assert.equal(keyOf(completed?.workflowExecutionCompletedEventAttributes?.result?.payloads), NEW.id);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });
});
