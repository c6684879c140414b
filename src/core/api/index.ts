// The API contract (docs/api.md): the wire shape of every route as TypeBox schemas and types, and
// the route registry. Imported by the API (route schemas and policies), the client (it checks the
// bodies it receives against these) and, later, the browser console: no Node modules here.
export * from './objects.js';
export * from './agents.js';
export * from './actions.js';
export * from './discovery.js';
export * from './logs.js';
export * from './routes.js';
export * from './auth.js';
export * from './tokens.js';
export * from './audit.js';
export * from './join.js';
export * from './secret-key.js';
export * from './exec.js';
export * from './console.js';
export * from './stats.js';
