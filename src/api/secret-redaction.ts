// Secret values leave the API only through the agents' files route (config-file-routes.ts). This
// hook replaces them in every other JSON answer, whoever asks: single objects (get, apply, create,
// delete) and lists; a Token's secretHash goes the same way. Watch streams write their own lines and call redactSecret there.
import type { FastifyInstance } from 'fastify';
import { redactSecret } from '../core/index.js';

/** A reply payload with every Secret in it redacted (a copy; stored objects are frozen). */
function redactPayload(payload: unknown): unknown {
  if (payload === null || typeof payload !== 'object') return payload;
  const p = payload as { kind?: unknown; items?: unknown };
  if (p.kind === 'Secret' || p.kind === 'Token') return redactSecret(payload);
  if (p.kind === 'List' && Array.isArray(p.items) && p.items.some((i: { kind?: unknown } | null) => i?.kind === 'Secret' || i?.kind === 'Token')) {
    return { ...p, items: p.items.map((i: unknown) => redactSecret(i)) };
  }
  return payload;
}

export function registerSecretRedaction(app: FastifyInstance): void {
  app.addHook('preSerialization', async (_req, _reply, payload) => redactPayload(payload));
}
