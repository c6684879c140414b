// The Store interface lives in core (src/core/store.ts), so that the runtime kit and the
// controllers depend on it without importing a backend; this file keeps the store folder's own
// name for it.
export type * from '../core/store.js';
