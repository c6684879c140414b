// Strict patterns for the strings that reach HAProxy's configuration or its runtime API (and, for
// addresses, agents' URLs): health-check paths, host names and addresses. HAProxy's config is
// line- and word-oriented, and runtime API commands are joined with ';', so a newline, a space, a
// ';', a '#', a quote or a backslash in one of them would start a new directive or a new command.
// The same patterns are used twice: by the schemas at admission (422 with the field path) and by
// the renderer and the runtime-socket sender, so an object stored before these checks, or written
// by some other path, still cannot inject anything.

/** `option httpchk GET <path>`: an absolute path, optional query; RFC 3986 path/query characters minus quotes, ';', '#', '$' and '\'. */
export const HTTP_PATH_PATTERN = "^/[A-Za-z0-9._~%!&()*+,=:@/?-]*$";
export const HTTP_PATH_MAX = 1024;

/** A DNS host name in lower case (what `spec.expose[].hostname` routes on). */
export const HOSTNAME_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';
export const HOSTNAME_MAX = 253;

/** An IPv4 address, an IPv6 address (hex digits, ':' and '.'), or a DNS name. */
export const ADDRESS_PATTERN = '^([0-9A-Fa-f]*:[0-9A-Fa-f:.]*|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?)$';
export const ADDRESS_MAX = 253;

export const HTTP_PATH_MESSAGE = `must be an absolute path like /healthz (letters, digits and - . _ ~ % ! & ( ) * + , = : @ / ?; no spaces, quotes, ';' or '#'; at most ${HTTP_PATH_MAX} characters)`;
export const HOSTNAME_MESSAGE = 'must be a host name like web.example.com: lower-case letters, digits, "-" and "."';
export const ADDRESS_MESSAGE = 'must be an IPv4 or IPv6 address or a host name (letters, digits, "-", "." and ":"; no spaces or other characters)';

const httpPath = new RegExp(HTTP_PATH_PATTERN);
const hostname = new RegExp(HOSTNAME_PATTERN);
const address = new RegExp(ADDRESS_PATTERN);

export type SafeStringKind = 'httpPath' | 'hostname' | 'address';

const RULES: Readonly<Record<SafeStringKind, { re: RegExp; max: number; message: string }>> = {
  httpPath: { re: httpPath, max: HTTP_PATH_MAX, message: HTTP_PATH_MESSAGE },
  hostname: { re: hostname, max: HOSTNAME_MAX, message: HOSTNAME_MESSAGE },
  address: { re: address, max: ADDRESS_MAX, message: ADDRESS_MESSAGE },
};

/** True when `value` is a string that fits the strict pattern of its kind. */
export function isSafeString(kind: SafeStringKind, value: unknown): boolean {
  const rule = RULES[kind];
  return typeof value === 'string' && value.length <= rule.max && rule.re.test(value);
}

/** What a user reads when a value of this kind does not fit (the schemas' errorMessage). */
export function safeStringMessage(kind: SafeStringKind): string {
  return RULES[kind].message;
}

/** Thrown by renderers when an unsafe string got past admission: a bug or an old object, never rendered. */
export class UnsafeStringError extends Error {
  override readonly name = 'UnsafeStringError';
  constructor(
    readonly kind: SafeStringKind,
    readonly value: string,
    readonly where: string,
  ) {
    super(`${where}: ${JSON.stringify(value.slice(0, 100))} ${RULES[kind].message}; it was not written`);
  }
}

/** Returns `value` when it fits; throws UnsafeStringError otherwise. For the last step before a config line or a socket command. */
export function requireSafe(kind: SafeStringKind, value: string, where: string): string {
  if (!isSafeString(kind, value)) throw new UnsafeStringError(kind, value, where);
  return value;
}

/** Any character that would end a word, a line or a runtime API command, or start a comment or a quote. */
export function hasConfigBreaker(value: string): boolean {
  if (/[\s;#"'`\\]/u.test(value)) return true;
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
