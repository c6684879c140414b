import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, type SecretKey } from './secret-box.js';

const key = (id: string): SecretKey => ({ id, key: randomBytes(32) });
const secretJson = (name: string, data: Record<string, string>, namespace = 'default'): string =>
  JSON.stringify({ apiVersion: 'gantry/v1', kind: 'Secret', metadata: { name, namespace, revision: 3 }, spec: { data, note: 'kept' } });

describe('SecretBox', () => {
  it('seals spec.data of a Secret and opens it to the same JSON, key order included', () => {
    const box = new SecretBox([key('k1')]);
    const json = secretJson('db', { password: 'hunter2' });
    const sealed = box.seal('Secret', json);
    expect(sealed).not.toContain('hunter2');
    expect(sealed).not.toContain('password');
    expect(JSON.parse(sealed)).toMatchObject({ metadata: { name: 'db' }, spec: { note: 'kept', sealedData: expect.stringMatching(/^gtenc1:k1:/) as unknown } });
    expect(box.open('Secret', sealed)).toEqual({ json, sealedWith: 'k1' });
  });

  it('uses a fresh IV each time: the same data seals to different bytes', () => {
    const box = new SecretBox([key('k1')]);
    const json = secretJson('db', { password: 'hunter2' });
    expect(box.seal('Secret', json)).not.toBe(box.seal('Secret', json));
  });

  it('leaves other kinds, and Secrets stored in clear, as they are', () => {
    const box = new SecretBox([key('k1')]);
    const config = JSON.stringify({ kind: 'Config', metadata: { name: 'c' }, spec: { data: { a: 'b' } } });
    expect(box.seal('Config', config)).toBe(config);
    const clear = secretJson('old', { a: 'b' });
    expect(box.open('Secret', clear)).toEqual({ json: clear, sealedWith: undefined });
  });

  it('refuses a ciphertext that was altered, saying so', () => {
    const box = new SecretBox([key('k1')]);
    const sealed = JSON.parse(box.seal('Secret', secretJson('db', { password: 'hunter2' }))) as { spec: { sealedData: string } };
    const parts = sealed.spec.sealedData.split(':');
    const ct = Buffer.from(parts[3]!, 'base64');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64');
    const tampered = JSON.stringify({ ...sealed, spec: { ...sealed.spec, sealedData: parts.join(':') } });
    expect(() => box.open('Secret', tampered)).toThrow(/Secret\/default\/db does not open with secret key "k1": it was altered/);
  });

  it("refuses one Secret's ciphertext copied onto another (the address is authenticated)", () => {
    const box = new SecretBox([key('k1')]);
    const a = JSON.parse(box.seal('Secret', secretJson('a', { password: 'A' }))) as { metadata: { name: string } };
    const moved = JSON.stringify({ ...a, metadata: { ...a.metadata, name: 'b' } });
    expect(() => box.open('Secret', moved)).toThrow(/Secret\/default\/b does not open/);
  });

  it('opens with any key of the ring, seals with the first; an unknown key id is named', () => {
    const k1 = key('k1');
    const k2 = key('k2');
    const old = new SecretBox([k1]).seal('Secret', secretJson('db', { p: 'x' }));
    const ring = new SecretBox([k2, k1]);
    expect(ring.open('Secret', old).sealedWith).toBe('k1');
    expect(ring.seal('Secret', secretJson('db', { p: 'x' }))).toContain('gtenc1:k2:');
    expect(() => new SecretBox([k2]).open('Secret', old)).toThrow(/sealed with secret key "k1", which is not in the keyring \(keys: k2\)/);
  });

  it('checks its keys', () => {
    expect(() => new SecretBox([])).toThrow(/at least one key/);
    expect(() => new SecretBox([{ id: 'k1', key: randomBytes(16) }])).toThrow(/16 bytes; AES-256 needs 32/);
    expect(() => new SecretBox([{ id: 'K:1', key: randomBytes(32) }])).toThrow(/must match/);
  });
});
