// What joins need from the server's data dir: the cluster CA (pinned by join tokens, signing the
// agents' serving certificates) and a key from which the server derives, per node, what it
// presents to that node's agent endpoint (an HMAC, so nothing per node is stored).
import { createHmac } from 'node:crypto';
import type { JoinDeps } from '../api/join-routes.js';
import { caFingerprint, ensureClusterTls, issueCertificate, loadCertificateAuthority, type CertificateAuthority } from './tls.js';

/** `ca`: the cluster CA the server already loaded (TLS on); without it (--no-tls), the data dir's, made if missing. */
export async function joinDeps(dataDir: string, endpointKey: string, ca?: CertificateAuthority): Promise<JoinDeps> {
  if (!ca) {
    await ensureClusterTls(dataDir);
    ca = await loadCertificateAuthority(dataDir);
  }
  const authority = ca;
  return {
    caPem: authority.certPem,
    caFingerprint: caFingerprint(authority.certPem),
    issueServingCertificate: (node, address) => issueCertificate(authority, { commonName: `gantry-agent:${node}`, sans: [address, node], usage: 'server' }),
    endpointToken: (node) => createHmac('sha256', endpointKey).update(`agent-endpoint/${node}`).digest('hex'),
  };
}
