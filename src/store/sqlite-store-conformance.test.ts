// The Store contract suite (test-store-conformance.ts) on the SQLite store; etcd runs the same
// suite in test/e2e/etcd-store.test.ts.
import { openSqliteStore } from './sqlite-store.js';
import { storeConformance } from './test-store-conformance.js';

storeConformance('sqlite', {
  open: async ({ historyLimit, now }) => openSqliteStore(':memory:', { ...(historyLimit ? { historyLimit } : {}), ...(now ? { now } : {}) }),
});
