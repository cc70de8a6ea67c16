import { Client, Connection } from '@temporalio/client';
import { createDataConverter, type EncryptionKey } from './payloadEncryption';

export interface TemporalSettings {
  temporalAddress: string;
  temporalNamespace: string;
  /** Payloads are encrypted with these (newest first); see payloadEncryption.ts. */
  encryptionKeys: readonly EncryptionKey[];
}

/** A client of the Temporal cluster. Connecting is lazy so that the HTTP server starts while Temporal is down. */
export async function connectTemporalClient(settings: TemporalSettings): Promise<Client> {
  const connection = Connection.lazy({ address: settings.temporalAddress, connectTimeout: '5 seconds' });
  return new Client({
    connection,
    namespace: settings.temporalNamespace,
    dataConverter: createDataConverter(settings.encryptionKeys),
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
