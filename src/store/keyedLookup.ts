import { createHash, createHmac } from 'node:crypto';
import type { EncryptionKey } from './endedPairings';

/**
 * Store keys made from people's numbers, keyed with the deployment's encryption keys (MASKLINE_ENCRYPTION_KEYS):
 * an HMAC-SHA256 under a key derived for one purpose, prefixed with the key's id. A phone number has too few
 * digits for an unkeyed hash to hide it (anyone with the database can hash every number of a country); without the
 * deployment's key these say nothing. Newest key first: `current` is what is written, `all` what a read tries, so a
 * rotation keeps finding what the older key wrote until it is gone.
 */
export class KeyedLookup {
  private readonly keys: { id: string; key: Buffer }[];

  constructor(keys: readonly EncryptionKey[], purpose: string) {
    if (keys.length === 0) throw new RangeError('a keyed lookup needs at least one key');
    // A key of its own per purpose, so that no lookup says anything about another one or about Temporal payloads.
    this.keys = keys.map((key) => ({
      id: key.id,
      key: createHmac('sha256', key.key).update(`maskline lookup: ${purpose}`).digest(),
    }));
  }

  current(text: string): string {
    return this.of(this.keys[0]!, text);
  }

  all(text: string): string[] {
    return this.keys.map((key) => this.of(key, text));
  }

  private of(key: { id: string; key: Buffer }, text: string): string {
    return `${key.id}:${createHmac('sha256', key.key).update(text).digest('base64url')}`;
  }
}

/**
 * For stores made without the deployment's keys (tests, benchmarks, tools): a key from a string in this public
 * repository, which protects nothing. The processes pass MASKLINE_ENCRYPTION_KEYS (src/worker, src/server).
 */
export const DEVELOPMENT_KEYS: readonly EncryptionKey[] = [
  {
    id: 'development-key-not-secret',
    key: createHash('sha256').update('maskline lookups: public, not a secret').digest(),
  },
];
