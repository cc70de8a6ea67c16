import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config';
import { connectTemporalClient, pingTemporal, temporalConnectionOf } from '../src/temporal/connection';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maskline-envconfig-'));
const file = (name: string, text: string) => {
  const at = path.join(dir, name);
  fs.writeFileSync(at, text);
  return at;
};
// No profile file of the machine's own is read: each case names its file, or one that does not exist.
const NO_FILE = { TEMPORAL_CONFIG_FILE: path.join(dir, 'absent.toml') };

describe('connecting to Temporal Cloud or a TLS cluster (@temporalio/envconfig)', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('connects to Temporal Cloud with an API key over TLS', () => {
    const { connection, namespace } = temporalConnectionOf({
      ...NO_FILE,
      TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'maskline.a1b2c',
      TEMPORAL_API_KEY: 'cloud-api-key-0123',
    });
    assert.deepEqual(connection, {
      address: 'eu-west-1.aws.api.temporal.io:7233',
      tls: true,
      apiKey: 'cloud-api-key-0123',
    });
    assert.equal(namespace, 'maskline.a1b2c');
  });

  it('connects with mTLS: client certificate and key, a CA and a server name of its own', () => {
    const env = {
      ...NO_FILE,
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem', 'CERTIFICATE'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key', 'KEY'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    };
    const { connection } = temporalConnectionOf(env);
    assert.equal(connection.address, 'temporal.internal:7233');
    assert.ok(typeof connection.tls === 'object');
    assert.equal(Buffer.from(connection.tls.clientCertPair?.crt ?? '').toString(), 'CERTIFICATE');
    assert.equal(Buffer.from(connection.tls.clientCertPair?.key ?? '').toString(), 'KEY');
    assert.equal(Buffer.from(connection.tls.serverRootCACertificate ?? '').toString(), 'CA');
    assert.equal(connection.tls.serverNameOverride, 'temporal.internal');
    // The processes' configuration carries it to the client and the worker.
    const config = loadConfig({ MASKLINE_DEVELOPMENT_MODE: 'true', ...env });
    assert.deepEqual(config.temporalConnection, connection);
    assert.equal(config.temporalAddress, 'temporal.internal:7233');
  });

  it('reads a profile of a TOML file, the variables overriding it', () => {
    const profiles = file(
      'temporal.toml',
      [
        '[profile.cloud]',
        'address = "maskline.a1b2c.tmprl.cloud:7233"',
        'namespace = "maskline.a1b2c"',
        'api_key = "from-the-file"',
        '',
      ].join('\n'),
    );
    const env = { TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'cloud', MASKLINE_DEVELOPMENT_MODE: 'true' };
    const config = loadConfig(env);
    assert.equal(config.temporalAddress, 'maskline.a1b2c.tmprl.cloud:7233');
    assert.equal(config.temporalNamespace, 'maskline.a1b2c');
    assert.deepEqual(config.temporalConnection, {
      address: 'maskline.a1b2c.tmprl.cloud:7233',
      tls: true,
      apiKey: 'from-the-file',
    });
    const overridden = loadConfig({ ...env, TEMPORAL_NAMESPACE: 'other', TEMPORAL_API_KEY: 'from-the-env' });
    assert.equal(overridden.temporalNamespace, 'other');
    assert.equal(overridden.temporalConnection.apiKey, 'from-the-env');
  });

  it('names the problem when the Temporal connection cannot be read', () => {
    const broken = file('broken.toml', '[profile.default\naddress = ');
    assert.throws(
      () => loadConfig({ MASKLINE_DEVELOPMENT_MODE: 'true', TEMPORAL_CONFIG_FILE: broken }),
      (error: unknown) => error instanceof ConfigError && /Temporal connection/.test(error.message),
    );
  });

  it('with nothing set, is the local dev server in plain text, and that still connects', async () => {
    assert.deepEqual(temporalConnectionOf(NO_FILE), { connection: { address: '127.0.0.1:7233' }, namespace: null });
    const config = loadConfig({
      ...NO_FILE,
      MASKLINE_DEVELOPMENT_MODE: 'true',
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    });
    assert.deepEqual(config.temporalConnection, { address: config.temporalAddress });
    assert.equal(config.temporalNamespace, 'default');
    const client = await connectTemporalClient(config);
    try {
      assert.equal(await pingTemporal(client, 5_000), true);
    } finally {
      await client.connection.close();
    }
  });
});
