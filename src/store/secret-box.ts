// Secret data at rest: what the SQLite store writes for a Secret has its `spec.data` sealed with
// AES-256-GCM under the keyring's primary key (as Kubernetes' EncryptionConfiguration with the
// aesgcm provider): a fresh 96-bit IV per value, the 128-bit tag kept, and the object's address
// (`Secret/<namespace>/<name>`) as additional data, so a ciphertext copied onto another Secret's
// row does not open. Every other kind, and everything but `spec.data`, is stored as is: names and
// labels stay readable to backups and `sqlite3`. The in-memory mirror holds the opened objects.
//
// The stored form replaces `spec.data` with `spec.sealedData`:
//   gtenc1:<key id>:<iv, base64>:<ciphertext, base64>:<tag, base64>
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { UnavailableError } from '../core/index.js';

export const SEALED_PREFIX = 'gtenc1';
/** Key ids: what a keyring file and a sealed value name a key by. */
export const KEY_ID_PATTERN = /^[a-z0-9]{1,16}$/;

export interface SecretKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

interface StoredSecret {
  kind: 'Secret';
  metadata: { namespace?: string; name: string };
  spec: { data?: unknown; sealedData?: unknown; [k: string]: unknown };
}

function isSecretJson(kind: string, json: string): boolean {
  // Cheap test before any parse: only Secrets are sealed.
  return kind === 'Secret' && json.length > 0;
}

const addressOf = (o: StoredSecret): string => `Secret/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** `spec` with the field `from` replaced by `to` = `value` at the same place (key order kept). */
function swapField(spec: StoredSecret['spec'], from: string, to: string, value: unknown): StoredSecret['spec'] {
  return Object.fromEntries(Object.entries(spec).map(([k, v]) => (k === from ? [to, value] : [k, v])));
}

export class SecretBox {
  private readonly byId: ReadonlyMap<string, Buffer>;

  /** `keys[0]` seals; every key opens what it sealed. */
  constructor(readonly keys: readonly SecretKey[]) {
    if (keys.length === 0) throw new Error('a SecretBox needs at least one key');
    for (const k of keys) {
      if (!KEY_ID_PATTERN.test(k.id)) throw new Error(`secret key id "${k.id}" must match ${KEY_ID_PATTERN}`);
      if (k.key.length !== 32) throw new Error(`secret key ${k.id} has ${k.key.length} bytes; AES-256 needs 32`);
    }
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get primaryId(): string {
    return this.keys[0]!.id;
  }

  /** What goes to disk for an object of `kind` whose JSON is `json`. */
  seal(kind: string, json: string): string {
    if (!isSecretJson(kind, json)) return json;
    const o = JSON.parse(json) as StoredSecret;
    if (o.spec?.data === undefined) return json;
    const data = o.spec.data;
    const primary = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', primary.key, iv);
    cipher.setAAD(Buffer.from(addressOf(o)));
    const ct = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
    const sealedData = [SEALED_PREFIX, primary.id, iv.toString('base64'), ct.toString('base64'), cipher.getAuthTag().toString('base64')].join(':');
    return JSON.stringify({ ...o, spec: swapField(o.spec, 'data', 'sealedData', sealedData) });
  }

  /**
   * The object's JSON as it was before sealing. `sealedWith`: the key id that sealed it, or
   * undefined when it was stored in clear (written before encryption was on).
   */
  open(kind: string, stored: string): { json: string; sealedWith: string | undefined } {
    if (!isSecretJson(kind, stored) || !stored.includes(`"sealedData"`)) return { json: stored, sealedWith: undefined };
    const o = JSON.parse(stored) as StoredSecret;
    const sealed = o.spec?.sealedData;
    if (typeof sealed !== 'string') return { json: stored, sealedWith: undefined };
    const parts = sealed.split(':');
    const where = addressOf(o);
    if (parts.length !== 5 || parts[0] !== SEALED_PREFIX) throw new UnavailableError(`the stored data of ${where} is not in the ${SEALED_PREFIX} format: the state file is damaged`);
    const [, id, iv, ct, tag] = parts as [string, string, string, string, string];
    const key = this.byId.get(id);
    if (!key) {
      throw new UnavailableError(
        `${where} was sealed with secret key "${id}", which is not in the keyring (keys: ${[...this.byId.keys()].join(', ')}): restore secret.key from the server that wrote it (docs/security.md, "Secrets at rest")`,
      );
    }
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(where));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      plain = Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new UnavailableError(`the stored data of ${where} does not open with secret key "${id}": it was altered, or belongs to another object`);
    }
    return { json: JSON.stringify({ ...o, spec: swapField(o.spec, 'sealedData', 'data', JSON.parse(plain) as unknown) }), sealedWith: id };
  }
}
