// fetch with the token, and the API's error body ({ error: { code, message, details } }) as an ApiError.
import { sessionToken, signOut } from './session.js';

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldError[] = [],
  ) {
    super(message);
  }
}

/** Told of a 401: the console forgets the token and shows the sign-in page with the reason. */
let onUnauthorized: (message: string) => void = () => undefined;
export function setUnauthorizedHandler(f: (message: string) => void): void {
  onUnauthorized = f;
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: FieldError[] } };
    if (body.error) return new ApiError(res.status, body.error.code ?? 'UNKNOWN', body.error.message ?? res.statusText, body.error.details ?? []);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(res.status, 'UNKNOWN', text.slice(0, 200) || `${res.status} ${res.statusText}`);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

/** A request with the token; a non-2xx answer throws ApiError (a 401 also signs out). */
export async function request(path: string, opts: RequestOptions = {}): Promise<Response> {
  const token = sessionToken();
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: opts.method ?? 'GET',
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (res.ok) return res;
  const e = await errorOf(res);
  if (res.status === 401) {
    signOut();
    onUnauthorized(e.message);
  }
  throw e;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await (await request(path, signal ? { signal } : {})).json()) as T;
}

export async function sendJson<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return (await (await request(path, { method, ...(body !== undefined ? { body } : {}) })).json()) as T;
}

/** The lines of a streamed text body (NDJSON watches, followed logs) as they arrive. */
export async function* lines(res: Response, signal: AbortSignal): AsyncGenerator<string> {
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const abort = (): void => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', abort, { once: true });
  let rest = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += value;
      let nl = rest.indexOf('\n');
      while (nl >= 0) {
        yield rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        nl = rest.indexOf('\n');
      }
    }
    if (rest) yield rest;
  } finally {
    signal.removeEventListener('abort', abort);
    reader.releaseLock();
  }
}
