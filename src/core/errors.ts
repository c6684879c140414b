// One error type for the whole project (STYLE.md §4): a string code, a human message that names
// the fix, and details. One table maps a code to an HTTP status; nothing else decides statuses.

export type ErrorCode =
  | 'MALFORMED'
  | 'INVALID'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'EXPIRED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  MALFORMED: 400,
  INVALID: 422,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  EXPIRED: 410,
  UNAVAILABLE: 503,
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

  static fromBody(status: number, body: unknown): AppError {
    const err = (body as Partial<ErrorBody> | undefined)?.error;
    if (err && typeof err.code === 'string' && err.code in HTTP_STATUS) {
      return new AppError(err.code, err.message, err.details);
    }
    const code = (Object.entries(HTTP_STATUS).find(([, s]) => s === status)?.[0] ?? 'INTERNAL') as ErrorCode;
    return new AppError(code, `HTTP ${status}`);
  }
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  constructor(readonly kind: string, readonly namespace: string | undefined, readonly objectName: string) {
    super('NOT_FOUND', `${kind.toLowerCase()} "${namespace ? `${namespace}/` : ''}${objectName}" not found`);
  }
}

export class ConflictError extends AppError {
  override readonly name = 'ConflictError';
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

export class InvalidError extends AppError {
  override readonly name = 'InvalidError';
  constructor(message: string, details: FieldError[]) {
    super('INVALID', message, details);
  }
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
