import { Client, Connection } from '@temporalio/client';

export interface TemporalSettings {
  temporalAddress: string;
  temporalNamespace: string;
}

/** A client of the Temporal cluster. Connecting is lazy so that the HTTP server starts while Temporal is down. */
export async function connectTemporalClient(settings: TemporalSettings): Promise<Client> {
  const connection = Connection.lazy({ address: settings.temporalAddress, connectTimeout: '5 seconds' });
  return new Client({ connection, namespace: settings.temporalNamespace });
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
