// The typed client of the Gantry API: what the CLI, the agent, the simulator and tests use.
export type * from './types.js';
export { createHttpClient, HttpClient, collectionPath, objectPath, type HttpClientOptions } from './http-client.js';
export { streamGet, type StreamResponse } from './stream-get.js';
export { HttpTransport, CallTimeout, DEFAULT_MAX_SOCKETS, type HttpTransportOptions } from './http-transport.js';
export { ndjsonLines } from './ndjson.js';
export { certificateFingerprint, tlsProblem, type TlsTrust } from './tls-trust.js';
