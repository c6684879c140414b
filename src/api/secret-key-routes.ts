// POST /api/v1/secret-key/rotate (admin): the server's store seals every Secret with a new key
// (src/server/secret-keys.ts). A server whose store cannot (none given) answers 503 saying so.
import type { FastifyInstance } from 'fastify';
import { SECRET_KEY_ROUTES, UnavailableError, type SecretKeyRotation } from '../core/index.js';
import type { RouteDeps } from './route-deps.js';
import { serve } from './serve-route.js';

export function registerSecretKeyRoutes(app: FastifyInstance, deps: RouteDeps, rotate: (() => Promise<SecretKeyRotation>) | undefined): void {
  serve(app, SECRET_KEY_ROUTES.secretKeyRotate, async () => {
    if (!rotate) throw new UnavailableError('this server keeps no Secret encryption key (its store was opened without one); start it with gantry server / gantry up');
    const done = await rotate();
    deps.logger.info({ keyId: done.keyId, objects: done.objects, history: done.history, dropped: done.dropped }, 'secret key rotated');
    return done;
  });
}
