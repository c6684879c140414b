// The project's errors (STYLE.md §4; shaped after Temporal's documented hierarchy and tRPC's one
// code -> status table). Every error a caller may need to tell apart is a class with a `name` and
// a string code; domain errors carry their identifiers. HTTP_STATUS, below, is the one place that
// turns a code into a status; the API's error handler and the HTTP client both go through it.
// Callers tell errors apart by class (`instanceof`) or code (`isAppError(e, 'CONFLICT')`), never
// by their message, which is for people and may change.
//
//   AppError                 code          status  thrown when
//   ├─ MalformedError        MALFORMED     400     a request, flag or file cannot be read at all
//   │  └─ UsageError         MALFORMED     400     a CLI command line cannot be run as written
//   ├─ UnauthorizedError     UNAUTHORIZED  401     no token, or a wrong one
//   ├─ ForbiddenError        FORBIDDEN     403     a valid token that may not do this
//   ├─ NotFoundError         NOT_FOUND     404     an object of some kind is missing (kind, namespace, name)
//   │  └─ ImageNotFoundError NOT_FOUND     404     a driver can neither find nor pull an image (image)
//   ├─ ConflictError         CONFLICT      409     a stale revision, a name taken, a state that forbids the call
//   │  ├─ StaleRevisionError CONFLICT     409     a compare-and-swap lost (kind, namespace, name, currentRevision)
//   │  └─ PortConflictError  CONFLICT      409     a driver found a host port already taken (ports)
//   ├─ ExpiredError          EXPIRED       410     a watch asked for history no longer kept: relist
//   ├─ TooLargeError         TOO_LARGE     413     a request body over the server's limit (limitBytes)
//   ├─ RateLimitedError      RATE_LIMITED  429     a credential over its request rate or open watches (retryAfterSeconds)
//   ├─ InvalidError          INVALID       422     a document that reads but breaks a rule (details: field paths)
//   ├─ InternalError         INTERNAL      500     a bug; the server log has the stack
//   ├─ UnavailableError      UNAVAILABLE   503     a dependency (Docker, a node, the server) does not answer; retry
//   └─ BehindError           TIMEOUT       504     this server's copy has not reached the revision the client saw yet; retry
//
// Over HTTP only `{ error: { code, message, details } }` travels, so `AppError.fromBody` rebuilds
// the class of the code (a 404 becomes a NotFoundError) but not a subclass or its identifiers.

export type ErrorCode =
  | 'MALFORMED'
  | 'INVALID'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'EXPIRED'
  | 'TOO_LARGE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'INTERNAL';

/** The one table from an error code to its HTTP status. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  MALFORMED: 400,
  INVALID: 422,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  EXPIRED: 410,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

/** One invalid field: `path` is written the way a user reads YAML, e.g. `spec.containers[0].image`. */
export interface FieldError {
  path: string;
  message: string;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: FieldError[] | undefined };
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(HTTP_STATUS, code);
}

/** The base of every error above: prefer a subclass; `new AppError(code, …)` is for a code only known at run time. */
export class AppError extends Error {
  override readonly name: string = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldError[],
  ) {
    super(message);
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }

  /** The error an API answer stands for, as the class of its code; a body without a code is read from the status. */
  static fromBody(status: number, body: unknown): AppError {
    const err = (body as Partial<ErrorBody> | undefined)?.error;
    if (err && isErrorCode(err.code)) return errorOf(err.code, typeof err.message === 'string' ? err.message : '', err.details);
    const code = (Object.entries(HTTP_STATUS).find(([, s]) => s === status)?.[0] ?? 'INTERNAL') as ErrorCode;
    return errorOf(code, `HTTP ${status}`);
  }
}

/** A request, flag or file that cannot be read at all (bad JSON, an unknown option value). */
export class MalformedError extends AppError {
  override readonly name: string = 'MalformedError';
  constructor(message: string, details?: FieldError[]) {
    super('MALFORMED', message, details);
  }
}

/** A CLI command line that cannot be run as written: a missing argument, a flag out of range. */
export class UsageError extends MalformedError {
  override readonly name = 'UsageError';
}

/** No token, or one the server does not know. */
export class UnauthorizedError extends AppError {
  override readonly name = 'UnauthorizedError';
  constructor(message: string) {
    super('UNAUTHORIZED', message);
  }
}

/** A known caller that may not do this. */
export class ForbiddenError extends AppError {
  override readonly name = 'ForbiddenError';
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/**
 * Something of `kind` (an object kind such as `Service`, or `container`, `route`, `image`…) named
 * `objectName`, in `namespace` when it has one, is missing. The default message names it; pass
 * `message` to add what to do. An error rebuilt from an API answer knows only its message: its
 * kind and objectName are undefined.
 */
export class NotFoundError extends AppError {
  override readonly name: string = 'NotFoundError';
  constructor(
    readonly kind: string | undefined,
    readonly namespace: string | undefined,
    readonly objectName: string | undefined,
    message?: string,
  ) {
    super('NOT_FOUND', message ?? `${(kind ?? 'object').toLowerCase()} "${namespace ? `${namespace}/` : ''}${objectName ?? ''}" not found`);
  }
}

/** A driver can neither find `image` locally nor pull it: fix the name or the registry, then retry. */
export class ImageNotFoundError extends NotFoundError {
  override readonly name = 'ImageNotFoundError';
  constructor(
    readonly image: string,
    message: string,
  ) {
    super('image', undefined, image, message);
  }
}

/** The object changed or exists, or its state forbids the call: read it again and decide again. */
export class ConflictError extends AppError {
  override readonly name: string = 'ConflictError';
  constructor(message: string, details?: FieldError[]) {
    super('CONFLICT', message, details);
  }
}

/**
 * A compare-and-swap lost: `kind` `namespace`/`objectName` is at `currentRevision`, not at the
 * revision the write was based on. Read it again and retry (retryOnConflict does).
 */
export class StaleRevisionError extends ConflictError {
  override readonly name = 'StaleRevisionError';
  constructor(
    readonly kind: string,
    readonly namespace: string | undefined,
    readonly objectName: string,
    readonly currentRevision: number,
    message: string,
  ) {
    super(message);
  }
}

/** A driver could not bind host `ports` because something else holds them: pick others and retry. */
export class PortConflictError extends ConflictError {
  override readonly name = 'PortConflictError';
  constructor(
    message: string,
    readonly ports: readonly number[] = [],
  ) {
    super(message);
  }
}

/** A watch asked for a revision older than the history kept: list again, then watch from there. */
export class ExpiredError extends AppError {
  override readonly name = 'ExpiredError';
  constructor(message: string) {
    super('EXPIRED', message);
  }
}

/** A request body larger than the server takes (`limitBytes`, when known): send less, or split it. */
export class TooLargeError extends AppError {
  override readonly name = 'TooLargeError';
  constructor(
    message: string,
    readonly limitBytes?: number,
  ) {
    super('TOO_LARGE', message);
  }
}

/**
 * A credential over its limits (request rate, open watches): retry after `retryAfterSeconds`
 * (the API sends it as Retry-After; the client waits that long and retries, a bounded number of times).
 */
export class RateLimitedError extends AppError {
  override readonly name = 'RateLimitedError';
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super('RATE_LIMITED', message);
  }
}

/** A document that reads but breaks a rule; `details` name each field (`spec.replicas`) and what is wrong. */
export class InvalidError extends AppError {
  override readonly name = 'InvalidError';
  constructor(message: string, details?: FieldError[]) {
    super('INVALID', message, details);
  }
}

/** A bug or a broken invariant; the message is for the log, the caller sees only that it failed. */
export class InternalError extends AppError {
  override readonly name = 'InternalError';
  constructor(message: string) {
    super('INTERNAL', message);
  }
}

/** Something this call needs (Docker, a node, the server, a store) does not answer now; retrying may help. */
export class UnavailableError extends AppError {
  override readonly name = 'UnavailableError';
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

/**
 * A read waited for this server's copy of the store to reach the revision the client had seen (a
 * write made through another server) and gave up: the copy is behind (docs/ha.md). Retry.
 */
export class BehindError extends AppError {
  override readonly name = 'BehindError';
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}

/** The class that stands for each code, as `fromBody` rebuilds it. */
const ERROR_OF_CODE: Readonly<Record<ErrorCode, (message: string, details: FieldError[] | undefined) => AppError>> = {
  MALFORMED: (m, d) => new MalformedError(m, d),
  INVALID: (m, d) => new InvalidError(m, d),
  UNAUTHORIZED: (m) => new UnauthorizedError(m),
  FORBIDDEN: (m) => new ForbiddenError(m),
  NOT_FOUND: (m) => new NotFoundError(undefined, undefined, undefined, m),
  CONFLICT: (m, d) => new ConflictError(m, d),
  EXPIRED: (m) => new ExpiredError(m),
  TOO_LARGE: (m) => new TooLargeError(m),
  RATE_LIMITED: (m) => new RateLimitedError(m),
  UNAVAILABLE: (m) => new UnavailableError(m),
  TIMEOUT: (m) => new BehindError(m),
  INTERNAL: (m) => new InternalError(m),
};

/** An error of the class that stands for `code`, for a code known only at run time. */
export function errorOf(code: ErrorCode, message: string, details?: FieldError[]): AppError {
  return ERROR_OF_CODE[code](message, details);
}

export function isAppError(e: unknown, code?: ErrorCode): e is AppError {
  return e instanceof AppError && (code === undefined || e.code === code);
}

/** Formats an error with its field details, one per line, for CLI output and logs. */
export function describeError(e: unknown): string {
  if (e instanceof AppError) {
    const lines = [`${e.message}`];
    for (const d of e.details ?? []) lines.push(`  ${d.path}: ${d.message}`);
    return lines.join('\n');
  }
  return e instanceof Error ? e.message : String(e);
}
