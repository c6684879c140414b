// What joins need from the server's data dir: the cluster CA (pinned by join tokens, signing the
// agents' serving certificates) and a key from which the server derives, per node, what it
// presents to that node's agent endpoint (an HMAC, so nothing per node is stored).
import { createHmac } from 'node:crypto';
import type { JoinDeps } from '../api/join-routes.js';
import { ensureClusterTls, issueCertificate, loadCertificateAuthority } from './tls.js';

export async function joinDeps(dataDir: string, endpointKey: string): Promise<JoinDeps> {
  const tls = await ensureClusterTls(dataDir);
  const ca = await loadCertificateAuthority(dataDir);
  return {
    caPem: tls.caPem,
    caFingerprint: tls.caFingerprint,
    issueServingCertificate: (node, address) => issueCertificate(ca, { commonName: `gantry-agent:${node}`, sans: [address, node], usage: 'server' }),
    endpointToken: (node) => createHmac('sha256', endpointKey).update(`agent-endpoint/${node}`).digest('hex'),
  };
}
