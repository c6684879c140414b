// docker-modem rejects with an Error carrying the HTTP status; these helpers read it without `any`.

export function dockerStatus(e: unknown): number | undefined {
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Docker's own words for a failure, without docker-modem's "(HTTP code 404) no such container -" prefix. */
export function dockerReason(e: unknown): string {
  const json = (e as { json?: unknown } | null)?.json;
  const message = (json as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && message.length > 0) return message;
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '').trim();
}
