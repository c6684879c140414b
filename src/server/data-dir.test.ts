import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureClusterSecrets } from './data-dir.js';

describe('ensureClusterSecrets', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'gantry-data-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates a private dir and 0600 tokens of 32 random bytes at first start', async () => {
    const dir = join(root, 'nested', 'data');
    const s = await ensureClusterSecrets(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const file of ['admin.token', 'endpoint.key', 'cluster-id']) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    expect(s.adminToken).toMatch(/^[0-9a-f]{64}$/);
    expect(s.endpointKey).toMatch(/^[0-9a-f]{64}$/);
    expect(s.endpointKey).not.toBe(s.adminToken);
    // There is no shared agent token any more.
    await expect(stat(join(dir, 'agent.token'))).rejects.toThrow(/ENOENT/);
    expect((await readFile(join(dir, 'admin.token'), 'utf8')).trim()).toBe(s.adminToken);
  });

  it("keeps an old data dir's agent.token value as the endpoint key, so agents joined before keep their endpoint secrets", async () => {
    await writeFile(join(root, 'agent.token'), 'ab'.repeat(32) + '\n', { mode: 0o600 });
    expect((await ensureClusterSecrets(root)).endpointKey).toBe('ab'.repeat(32));
    expect((await readFile(join(root, 'endpoint.key'), 'utf8')).trim()).toBe('ab'.repeat(32));
  });

  it('keeps the same secrets on the next start', async () => {
    const first = await ensureClusterSecrets(root);
    expect(await ensureClusterSecrets(root)).toEqual(first);
  });
});
