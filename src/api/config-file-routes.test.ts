import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../client/http-client.js';
import type { Instance, Manifest } from '../core/index.js';
import { aUserToken, startHarness, type Harness } from './test-helpers.js';
import { anInstance } from '../core/test-builders.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const secret = (data: Record<string, string>): Manifest => ({ apiVersion: 'gantry/v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, spec: { data } });
const config = (data: Record<string, string>): Manifest => ({ apiVersion: 'gantry/v1', kind: 'Config', metadata: { name: 'web-conf', namespace: 'default' }, spec: { data } });
const secretUrl = '/api/v1/namespaces/default/secrets/db';
const filesUrl = (name: string, node?: string): string => `/api/v1/namespaces/default/instances/${name}/files${node ? `?node=${node}` : ''}`;

async function instanceWithFiles(name: string, node: string | undefined): Promise<Instance> {
  const base = anInstance(name, node ? { node } : {});
  return h.store.create({
    ...base,
    spec: {
      ...base.spec,
      configFiles: [
        { path: '/etc/app/inline.txt', content: 'inline' },
        { path: '/etc/app/app.conf', configRef: { name: 'web-conf', key: 'app.conf' }, mode: '0600' },
        { path: '/run/secrets/password', secretRef: { name: 'db', key: 'password' }, mode: '0400' },
      ],
    },
  });
}

describe('Secret redaction', () => {
  it('never returns a value on get, list, apply or delete, for any token', async () => {
    h = await startHarness();
    const put = await h.call({ method: 'PUT', url: secretUrl, payload: secret({ password: 's3cr3t-value' }) });
    expect(put.statusCode).toBe(201);
    for (const token of [undefined, await aUserToken(h, 'vera', 'view')]) {
      const get = await h.call({ method: 'GET', url: secretUrl, ...(token ? { token } : {}) });
      expect(get.json().spec.data).toEqual({ password: '<redacted 12 bytes>' });
      const list = await h.call({ method: 'GET', url: '/api/v1/secrets', ...(token ? { token } : {}) });
      expect(list.body).not.toContain('s3cr3t');
      expect(list.json().items[0].spec.data.password).toBe('<redacted 12 bytes>');
    }
    expect(put.body).not.toContain('s3cr3t');
    // The store keeps the real value.
    expect((await h.store.get('Secret', 'default', 'db'))?.spec.data.password).toBe('s3cr3t-value');
    const del = await h.call({ method: 'DELETE', url: secretUrl });
    expect(del.body).not.toContain('s3cr3t');
  });

  it('still says unchanged when the same values are applied again', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: secretUrl, payload: secret({ password: 'one' }) });
    const again = await h.call({ method: 'PUT', url: secretUrl, payload: secret({ password: 'one' }) });
    expect(again.headers['x-gantry-result']).toBe('unchanged');
    const changed = await h.call({ method: 'PUT', url: secretUrl, payload: secret({ password: 'two' }) });
    expect(changed.headers['x-gantry-result']).toBe('configured');
  });

  it('refuses an exported Secret (redaction markers) with 422 naming the field, and keeps the value', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: secretUrl, payload: secret({ password: 'keep-me' }) });
    const exported = (await h.call({ method: 'GET', url: secretUrl })).json();
    const res = await h.call({ method: 'PUT', url: secretUrl, payload: exported });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details[0].path).toBe('spec.data.password');
    expect((await h.store.get('Secret', 'default', 'db'))?.spec.data.password).toBe('keep-me');
  });

  it('redacts Secrets in watch streams', async () => {
    h = await startHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.address() as AddressInfo;
    const client = createHttpClient({ server: `http://127.0.0.1:${port}`, token: await aUserToken(h, 'vera', 'view') });
    const from = await h.store.currentRevision();
    await h.call({ method: 'PUT', url: secretUrl, payload: secret({ password: 'watch-me' }) });
    await h.call({ method: 'PUT', url: secretUrl, payload: secret({ password: 'watch-me-2' }) });
    const ac = new AbortController();
    const seen: unknown[] = [];
    for await (const ev of client.watch({ kind: 'Secret', namespace: 'default', fromRevision: from }, ac.signal)) {
      if (ev.type === 'BOOKMARK') continue;
      seen.push(ev.object);
      if (seen.length === 2) ac.abort();
    }
    expect(JSON.stringify(seen)).not.toContain('watch-me');
    expect(JSON.stringify(seen)).toContain('<redacted 10 bytes>');
  });
});

describe('GET instances/:name/files', () => {
  it('resolves inline content, Config and Secret references for the agent', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: secretUrl, payload: secret({ password: 'hunter2' }) });
    await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/configs/web-conf', payload: config({ 'app.conf': 'port=8080\n' }) });
    await instanceWithFiles('web-1', 'n1');
    const res = await h.call({ method: 'GET', url: filesUrl('web-1', 'n1'), token: await h.node('n1') });
    expect(res.statusCode).toBe(200);
    expect(res.json().files).toEqual([
      { path: '/etc/app/inline.txt', mode: '0644', content: 'inline' },
      { path: '/etc/app/app.conf', mode: '0600', content: 'port=8080\n' },
      { path: '/run/secrets/password', mode: '0400', content: 'hunter2' },
    ]);
  });

  it('is for agents only, and only for the node the instance is bound to', async () => {
    h = await startHarness();
    await instanceWithFiles('web-1', 'n1');
    expect((await h.call({ method: 'GET', url: filesUrl('web-1') })).statusCode).toBe(403);
    expect((await h.call({ method: 'GET', url: filesUrl('web-1', 'n2'), token: await h.node('n1') })).statusCode).toBe(403);
    await instanceWithFiles('web-2', undefined);
    expect((await h.call({ method: 'GET', url: filesUrl('web-2'), token: await h.node('n1') })).statusCode).toBe(403);
  });

  it('answers 409 naming each missing reference', async () => {
    h = await startHarness();
    await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/configs/web-conf', payload: config({ other: 'x' }) });
    await instanceWithFiles('web-1', 'n1');
    const res = await h.call({ method: 'GET', url: filesUrl('web-1', 'n1'), token: await h.node('n1') });
    expect(res.statusCode).toBe(409);
    const details = res.json().error.details as { path: string; message: string }[];
    expect(details.map((d) => d.path)).toEqual(['spec.configFiles[1].configRef.key', 'spec.configFiles[2].secretRef']);
    expect(details[0]?.message).toMatch(/no key "app.conf"; its keys are other/);
    expect(details[1]?.message).toMatch(/secret "default\/db" does not exist/);
  });
});

describe('config file validation', () => {
  it('wants exactly one source per file and no path twice', async () => {
    h = await startHarness();
    const svc: Manifest = {
      apiVersion: 'gantry/v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        containers: [{ name: 'main', image: 'busybox' }],
        configFiles: [
          { path: '/a', content: 'x', configRef: { name: 'c', key: 'k' } },
          { path: '/b' },
          { path: '/a', content: 'y' },
        ],
      },
    };
    const res = await h.call({ method: 'PUT', url: '/api/v1/namespaces/default/services/web', payload: svc });
    expect(res.statusCode).toBe(422);
    const paths = (res.json().error.details as { path: string }[]).map((d) => d.path);
    expect(paths).toEqual(['spec.configFiles[0]', 'spec.configFiles[1]', 'spec.configFiles[2].path']);
  });
});
