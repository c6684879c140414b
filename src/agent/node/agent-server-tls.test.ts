// The agent's log endpoint over TLS: the API server, with its client certificate from the cluster
// CA, is its only client.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamGet } from '../../client/stream-get.js';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import { ensureClusterTls, issueCertificate, loadCertificateAuthority, type CertificateAuthority, type IssuedCertificate } from '../../server/tls.js';
import { AgentServer } from './agent-server.js';
import { aContainer, silentLogger } from '../test-helpers.js';

let dir: string;
let ca: CertificateAuthority;
let serverClient: IssuedCertificate;
let server: AgentServer;
let id: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-agent-tls-'));
  await ensureClusterTls(dir);
  ca = await loadCertificateAuthority(dir);
  serverClient = await issueCertificate(ca, { commonName: 'gantry-server', usage: 'client' });
  const serving = await issueCertificate(ca, { commonName: 'n1', sans: ['127.0.0.1'], usage: 'server' });
  const driver = new FakeDriver({ nodeName: 'n1' });
  id = await driver.create({ instance: { namespace: 'default', name: 'web-abcde', uid: 'u1' }, spec: aContainer(), index: 0, publish: [], env: {}, hostname: 'web-abcde' });
  await driver.start(id);
  server = new AgentServer({ nodeName: 'n1', driver, token: 'agent-secret', owns: (c) => c === id, logger: silentLogger(), tls: { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem } });
  await server.listen();
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function get(tls: { ca?: string; cert?: string; key?: string }, headers: Record<string, string> = {}): Promise<number> {
  const res = await streamGet(`${server.url}/v1/containers/${id}/log?tail=1`, headers, AbortSignal.timeout(5000), tls);
  res.body.destroy();
  return res.status;
}

describe('AgentServer over TLS', () => {
  it('listens on https and serves the server, which shows its client certificate', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await get({ ca: ca.certPem, cert: serverClient.certPem, key: serverClient.keyPem })).toBe(200);
  });

  it('cuts off a caller without a client certificate in the handshake, agent token or not', async () => {
    await expect(get({ ca: ca.certPem }, { authorization: 'Bearer agent-secret' })).rejects.toThrow();
  });

  it('answers 401 to a client certificate from the cluster CA that is not the server', async () => {
    const other = await issueCertificate(ca, { commonName: 'node-b', usage: 'client' });
    expect(await get({ ca: ca.certPem, cert: other.certPem, key: other.keyPem })).toBe(401);
  });

  it('refuses a serving certificate used as a client one, and a certificate from another CA', async () => {
    const serving = await issueCertificate(ca, { commonName: 'gantry-server', usage: 'server' });
    await expect(get({ ca: ca.certPem, cert: serving.certPem, key: serving.keyPem })).rejects.toThrow();
    const otherDir = await mkdtemp(join(tmpdir(), 'gantry-agent-tls-other-'));
    try {
      await ensureClusterTls(otherDir);
      const stranger = await issueCertificate(await loadCertificateAuthority(otherDir), { commonName: 'gantry-server', usage: 'client' });
      await expect(get({ ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem })).rejects.toThrow();
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('is not trusted by a client without the cluster CA', async () => {
    await expect(get({ cert: serverClient.certPem, key: serverClient.keyPem })).rejects.toThrow(/self[- ]signed|unable to/i);
  });
});
