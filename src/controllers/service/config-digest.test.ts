import { describe, expect, it } from 'vitest';
import { configDigest, referencesConfig } from './config-digest.js';

describe('configDigest', () => {
  const files = [{ path: '/etc/a.conf', configRef: { name: 'conf', key: 'a' } }, { path: '/etc/pw', secretRef: { name: 'pw', key: 'p' } }];
  const data: Record<string, Record<string, string>> = { 'Config/conf': { a: '1', b: 'x' }, 'Secret/pw': { p: 's3' } };
  const lookup = async (kind: string, name: string) => data[`${kind}/${name}`];

  it('is undefined without references, so older template hashes stay valid', async () => {
    expect(await configDigest({}, lookup)).toBeUndefined();
    expect(await configDigest({ configFiles: [{ path: '/x', content: 'inline' }] }, lookup)).toBeUndefined();
  });

  it('changes with the referenced key only', async () => {
    const before = await configDigest({ configFiles: files }, lookup);
    data['Config/conf'] = { a: '1', b: 'changed' };
    expect(await configDigest({ configFiles: files }, lookup)).toBe(before);
    data['Secret/pw'] = { p: 'rotated' };
    expect(await configDigest({ configFiles: files }, lookup)).not.toBe(before);
  });

  it('counts a missing Config as content, so its arrival changes the digest', async () => {
    const missing = await configDigest({ configFiles: [{ path: '/y', configRef: { name: 'later', key: 'k' } }] }, lookup);
    data['Config/later'] = { k: 'v' };
    expect(await configDigest({ configFiles: [{ path: '/y', configRef: { name: 'later', key: 'k' } }] }, lookup)).not.toBe(missing);
  });

  it('tells which services reference a changed Config or Secret', () => {
    expect(referencesConfig(files, 'Config', 'conf')).toBe(true);
    expect(referencesConfig(files, 'Secret', 'conf')).toBe(false);
    expect(referencesConfig(undefined, 'Secret', 'pw')).toBe(false);
  });
});
