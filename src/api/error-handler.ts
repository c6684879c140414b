// Every failure leaves the API in one body shape, `{ error: { code, message, details } }`, with
// the status from core's code table. Bugs (anything not an AppError and not Fastify's own
// client-error) become 500 INTERNAL and are logged with their stack; client errors are not logged
// above debug, because at scale they are noise.
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, InternalError, InvalidError, MalformedError, NotFoundError, RateLimitedError, TooLargeError, type FieldError } from '../core/index.js';

interface ValidationItem {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function isFastifyError(e: unknown): e is FastifyError {
  return e instanceof Error && typeof (e as Partial<FastifyError>).code === 'string';
}

/** `/spec/replicas` -> `spec.replicas`, `/items/0/name` -> `items[0].name`. */
function pathOf(prefix: string, pointer: string | undefined): string {
  const parts = (pointer ?? '').split('/').filter(Boolean);
  let out = prefix;
  for (const p of parts) out += /^[0-9]+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || '(document)';
}

/** `16777216` -> `16 MiB`. */
function bytesText(n: number): string {
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** Translates any thrown value into the AppError the client sees. */
function toAppError(e: unknown, bodyLimit: number): AppError | undefined {
  if (e instanceof AppError) return e;
  if (!isFastifyError(e)) return undefined;
  if (e.validation) {
    const where = e.validationContext ?? 'body';
    const details: FieldError[] = (e.validation as ValidationItem[]).map((v) => ({
      path: pathOf(where === 'body' ? '' : where, v.instancePath),
      message: v.message ?? 'is invalid',
    }));
    return where === 'body'
      ? new InvalidError(`the request body is invalid: ${details.length} problem${details.length === 1 ? '' : 's'}`, details)
      : new MalformedError(`the request ${where} is malformed`, details);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MalformedError('the request body is not valid JSON; send a JSON object (gantry apply converts YAML for you)');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new MalformedError('unsupported content-type; send JSON with "content-type: application/json"');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TooLargeError(`the request body is larger than this server takes (${bytesText(bodyLimit)}): send a smaller object, or split a batch`, bodyLimit);
    default:
      // Other Fastify client errors (bad content-length, bad URL encoding...) are the caller's.
      if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new MalformedError(e.message);
      return undefined;
  }
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(async (error, req, reply) => {
    const appError = toAppError(error, app.initialConfig.bodyLimit ?? 1024 * 1024);
    if (appError) {
      req.log.debug({ code: appError.code, method: req.method, url: req.url, msg: appError.message }, 'request failed');
      if (appError instanceof RateLimitedError && appError.retryAfterSeconds !== undefined) reply.header('retry-after', String(appError.retryAfterSeconds));
      return reply.code(appError.status).send(appError.toBody());
    }
    req.log.error({ err: error, method: req.method, url: req.url }, 'internal error');
    const internal = new InternalError('internal error; the server log has the details');
    return reply.code(internal.status).send(internal.toBody());
  });

  app.setNotFoundHandler(async (req, reply) => {
    const e = new NotFoundError('route', undefined, req.url.split('?')[0] ?? '', `no route ${req.method} ${req.url.split('?')[0] ?? ''}; see docs/api.md for the routes`);
    return reply.code(e.status).send(e.toBody());
  });
}
