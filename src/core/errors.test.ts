import { describe, expect, it } from 'vitest';
import {
  AppError,
  ConflictError,
  errorOf,
  ExpiredError,
  ForbiddenError,
  HTTP_STATUS,
  ImageNotFoundError,
  InternalError,
  InvalidError,
  isAppError,
  MalformedError,
  NotFoundError,
  PortConflictError,
  TooLargeError,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
  UsageError,
  type ErrorCode,
  BehindError,
} from './errors.js';

/** Each error class, an instance of it, and the code, status and wire class it must have. */
const CASES: { error: AppError; code: ErrorCode; status: number; wire: abstract new (...args: never[]) => AppError }[] = [
  { error: new MalformedError('the request body is not valid JSON'), code: 'MALFORMED', status: 400, wire: MalformedError },
  { error: new UsageError('--replicas must be a whole number'), code: 'MALFORMED', status: 400, wire: MalformedError },
  { error: new UnauthorizedError('no token'), code: 'UNAUTHORIZED', status: 401, wire: UnauthorizedError },
  { error: new ForbiddenError('not yours'), code: 'FORBIDDEN', status: 403, wire: ForbiddenError },
  { error: new NotFoundError('Service', 'default', 'web'), code: 'NOT_FOUND', status: 404, wire: NotFoundError },
  { error: new ImageNotFoundError('nope:1', 'image "nope:1" not found locally and could not be pulled'), code: 'NOT_FOUND', status: 404, wire: NotFoundError },
  { error: new ConflictError('service "default/web" changed'), code: 'CONFLICT', status: 409, wire: ConflictError },
  { error: new PortConflictError('port is already allocated', [8080]), code: 'CONFLICT', status: 409, wire: ConflictError },
  { error: new ExpiredError('revision 3 is no longer kept'), code: 'EXPIRED', status: 410, wire: ExpiredError },
  { error: new TooLargeError('the request body is larger than this server takes (16 MiB)', 16 * 2 ** 20), code: 'TOO_LARGE', status: 413, wire: TooLargeError },
  { error: new RateLimitedError('user alice sends more than 50 requests a second', 2), code: 'RATE_LIMITED', status: 429, wire: RateLimitedError },
  { error: new InvalidError('service is invalid: 1 problem', [{ path: 'spec.replicas', message: 'must be a whole number' }]), code: 'INVALID', status: 422, wire: InvalidError },
  { error: new InternalError('a bug'), code: 'INTERNAL', status: 500, wire: InternalError },
  { error: new UnavailableError('Docker does not answer'), code: 'UNAVAILABLE', status: 503, wire: UnavailableError },
  { error: new BehindError('this server is at revision 9, the client saw 12'), code: 'TIMEOUT', status: 504, wire: BehindError },
];

describe('the error table', () => {
  it('maps every code to its HTTP status', () => {
    expect(HTTP_STATUS).toEqual({
      MALFORMED: 400,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      EXPIRED: 410,
      TOO_LARGE: 413,
      RATE_LIMITED: 429,
      INVALID: 422,
      INTERNAL: 500,
      UNAVAILABLE: 503,
      TIMEOUT: 504,
    });
  });

  it('has an error class for every code, and each class its own name', () => {
    expect(new Set(CASES.map((c) => c.code))).toEqual(new Set(Object.keys(HTTP_STATUS)));
    expect(new Set(CASES.map((c) => c.error.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.error.name, c] as const))('%s has its code and status, and is an AppError', (_, c) => {
    expect(c.error).toBeInstanceOf(AppError);
    expect(c.error).toBeInstanceOf(Error);
    expect(c.error.code).toBe(c.code);
    expect(c.error.status).toBe(c.status);
    expect(isAppError(c.error, c.code)).toBe(true);
    expect(c.error.toBody()).toEqual({ error: { code: c.code, message: c.error.message, details: c.error.details } });
  });

  it.each(CASES.map((c) => [c.error.name, c] as const))('%s comes back from its JSON body as the class of its code', (_, c) => {
    const back = AppError.fromBody(c.status, JSON.parse(JSON.stringify(c.error.toBody())));
    expect(back).toBeInstanceOf(c.wire);
    expect(back.code).toBe(c.code);
    expect(back.status).toBe(c.status);
    expect(back.message).toBe(c.error.message);
    expect(back.details).toEqual(c.error.details);
  });

  it('reads a body without a known code from the status alone', () => {
    const e = AppError.fromBody(404, '<html>not here</html>');
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.message).toBe('HTTP 404');
    expect(AppError.fromBody(502, { error: { code: 'TEAPOT', message: 'x' } })).toBeInstanceOf(InternalError);
    expect(AppError.fromBody(409, { error: { code: 'toString', message: 'x' } })).toBeInstanceOf(ConflictError);
  });

  it('builds the class of a code known only at run time', () => {
    for (const c of CASES) expect(errorOf(c.code, 'm')).toBeInstanceOf(c.wire);
  });
});

describe('domain errors carry their identifiers', () => {
  it('NotFoundError names the kind, namespace and name', () => {
    const e = new NotFoundError('Service', 'team-a', 'web');
    expect([e.kind, e.namespace, e.objectName]).toEqual(['Service', 'team-a', 'web']);
    expect(e.message).toBe('service "team-a/web" not found');
    expect(new NotFoundError('Node', undefined, 'n1').message).toBe('node "n1" not found');
    expect(new NotFoundError('container', undefined, 'abc', 'container abc not found; recreate it').message).toBe('container abc not found; recreate it');
  });

  it('an error rebuilt from the wire knows only its message', () => {
    const e = AppError.fromBody(404, new NotFoundError('Service', 'default', 'web').toBody());
    expect(e).toBeInstanceOf(NotFoundError);
    expect((e as NotFoundError).kind).toBeUndefined();
  });

  it('the driver errors are their family and carry what failed', () => {
    const img = new ImageNotFoundError('nope:1', 'image "nope:1" not found');
    expect(img).toBeInstanceOf(NotFoundError);
    expect([img.kind, img.objectName, img.image]).toEqual(['image', 'nope:1', 'nope:1']);
    const port = new PortConflictError('port is already allocated', [8080, 8443]);
    expect(port).toBeInstanceOf(ConflictError);
    expect(port.ports).toEqual([8080, 8443]);
    expect(new UsageError('x')).toBeInstanceOf(MalformedError);
  });
});
