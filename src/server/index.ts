// The server folder's entry point: what src/cli may import of the control plane (the lint rule of
// docs/architecture.md allows no deeper path).
export { startServer, type RunningServer, type StartServerOptions } from './server-root.js';
export { LocalLeaderLease, type LeaderLease } from './leader-lease.js';
export { parseListen, urlOf, type ListenAddress } from './listen-address.js';
export { parseDnsListen, type DnsListenAddress } from '../discovery/dns-server.js';
export { caCertPath, caFingerprint, ensureClusterTls, issueCertificate, loadCertificateAuthority, renewServerCertificate, type CertificateAuthority, type ClusterTls, type IssuedCertificate } from './tls.js';
export { startHaCluster, SHARED_FILES, type HaCluster } from './ha-cluster.js';
export { backupSqlite, importSqliteIntoEtcd, inspectSqlite, restoreSqlite, snapshotEtcd, type BackupSummary } from '../store/backup.js';
export { lockDataDir } from './data-dir-lock.js';
