import { Client, Connection, type Metadata } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { temporalPlugins } from '../tracing/tracing';
import { createDataConverter, type EncryptionKey } from './payloadEncryption';

/** How to reach the Temporal cluster: a local dev server, a TLS cluster (mTLS) or Temporal Cloud (API key or mTLS). */
export interface TemporalConnectionOptions {
  address: string;
  /** True: TLS with the system's roots; an object: mTLS and/or a CA and server name of its own. */
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Metadata;
}

const LOCAL_ADDRESS = '127.0.0.1:7233';

/**
 * The connection and namespace as the Temporal SDKs' environment configuration reads them (@temporalio/envconfig):
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH/_DATA,
 * TEMPORAL_TLS_CLIENT_KEY_PATH/_DATA, TEMPORAL_TLS_SERVER_CA_CERT_PATH/_DATA, TEMPORAL_TLS_SERVER_NAME,
 * TEMPORAL_GRPC_META_*, and a profile (TEMPORAL_PROFILE, default `default`) of the TOML file TEMPORAL_CONFIG_FILE
 * (default ~/.config/temporalio/temporal.toml), the variables overriding the file. Nothing set: the local dev
 * server, plain text. An API key alone turns TLS on, as Temporal Cloud wants.
 */
export function temporalConnectionOf(env: NodeJS.ProcessEnv): {
  connection: TemporalConnectionOptions;
  namespace: string | null;
} {
  const defined = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: defined });
  const { address, tls, apiKey, metadata } = connectionOptions;
  return {
    connection: {
      address: address ?? LOCAL_ADDRESS,
      ...(tls !== undefined && tls !== null ? { tls } : {}),
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(metadata !== undefined && Object.keys(metadata).length > 0 ? { metadata } : {}),
    },
    namespace: namespace ?? null,
  };
}

export interface TemporalSettings {
  temporalAddress: string;
  temporalNamespace: string;
  /** TLS, API key and gRPC metadata besides the address (see temporalConnectionOf); absent: plain text. */
  temporalConnection?: TemporalConnectionOptions;
  /** Payloads are encrypted with these (newest first); see payloadEncryption.ts. */
  encryptionKeys: readonly EncryptionKey[];
}

/** The connection options of the client and the worker alike. */
export function connectionOptionsOf(settings: Omit<TemporalSettings, 'encryptionKeys' | 'temporalNamespace'>) {
  return { ...settings.temporalConnection, address: settings.temporalAddress };
}

/** A client of the Temporal cluster. Connecting is lazy so that the HTTP server starts while Temporal is down. */
export async function connectTemporalClient(settings: TemporalSettings): Promise<Client> {
  const connection = Connection.lazy({ ...connectionOptionsOf(settings), connectTimeout: '5 seconds' });
  return new Client({
    connection,
    namespace: settings.temporalNamespace,
    dataConverter: createDataConverter(settings.encryptionKeys),
    plugins: temporalPlugins(),
  });
}

export async function pingTemporal(client: Client, timeoutMs = 1_000): Promise<boolean> {
  try {
    await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      client.connection.workflowService.getSystemInfo({}),
    );
    return true;
  } catch {
    return false;
  }
}
