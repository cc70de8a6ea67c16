import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import {
  METADATA_ENCODING_KEY,
  ValueError,
  type DataConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** One AES-256 key for Temporal payloads, named by the id that encrypted payloads carry in their metadata. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** Temporal's conventional metadata for encrypted payloads (samples-typescript `encryption`). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/**
 * The key `npm start` uses when MASKLINE_ENCRYPTION_KEYS is unset. It is derived from a string in this public
 * repository, so it protects nothing: it exists so that development runs exercise the same encrypted path as
 * production, and its id says so wherever a payload names it.
 */
export const DEVELOPMENT_KEY: EncryptionKey = {
  id: 'development-key-not-secret',
  key: createHash('sha256').update('maskline development key: public, never use in production').digest(),
};

/**
 * Encrypts every Temporal payload with AES-256-GCM: the whole payload (its metadata and data) is serialized and
 * encrypted, so neither the value nor its encoding is readable in Temporal's history. New payloads use the first
 * key; a payload names its key by id, so payloads written with an older key stay readable while that key is listed.
 * Payloads that are not encrypted (written before encryption was turned on) are passed through unchanged.
 *
 * Layout of `data`: 12-byte random IV, ciphertext, 16-byte GCM tag.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly current: EncryptionKey;

  constructor(keys: readonly EncryptionKey[]) {
    const [current] = keys;
    if (!current) throw new ValueError('EncryptionCodec needs at least one key');
    for (const key of keys) {
      if (key.key.length !== KEY_BYTES) throw new ValueError(`encryption key ${key.id} is not ${KEY_BYTES} bytes`);
    }
    this.current = current;
    this.keys = new Map(keys.map((key) => [key.id, key.key]));
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: Buffer.from(this.current.id),
      },
      data,
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!keyIdBytes) throw new ValueError(`encrypted payload without ${KEY_ID_METADATA}`);
    const keyId = Buffer.from(keyIdBytes).toString();
    const key = this.keys.get(keyId);
    if (!key) throw new ValueError(`payload encrypted with key "${keyId}", which is not in MASKLINE_ENCRYPTION_KEYS`);
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is too short');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new ValueError(
        `payload encrypted with key "${keyId}" does not decrypt: wrong key material or altered data`,
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/**
 * The data converter of every Temporal client and worker of ours: payloads encrypted, and failure messages and
 * stack traces moved into an (encrypted) payload as well, since an error text may quote a value.
 */
export function createDataConverter(keys: readonly EncryptionKey[]): DataConverter {
  return {
    payloadCodecs: [new EncryptionCodec(keys)],
    failureConverterPath: require.resolve('./failureConverter'),
  };
}
