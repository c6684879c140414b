// The web console's files (web/dist, built by `npm run build`), served at `/` from the one route
// `GET /*` of the registry (core/api/console.ts). @fastify/static only lends `reply.sendFile`
// (serve: false): its own routes would bypass the route registry. A path that is not a file is a
// page of the single-page app and gets index.html. Every answer carries a strict
// Content-Security-Policy: scripts from this origin only, no inline script, connections to this
// origin only (container logs and event text are hostile: see web/README.md).
import { existsSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { CONSOLE_ROUTES, NotFoundError } from '../core/index.js';
import { serve } from './serve-route.js';

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // Mantine writes its CSS variables in a <style> element and React sets style attributes: styles
  // may be inline, scripts never.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** Paths the catch-all must not answer with the console: the API's own 404 (with auth first) applies. */
export function isApiPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/api' || path.startsWith('/api/') || path === '/metrics' || path === '/healthz';
}

/** A file under `root` for a request path, or undefined (outside the root, a folder, missing). */
function fileOf(root: string, path: string): string | undefined {
  const rel = normalize(decodeURIComponent(path)).replace(/^([/\\])+/, '');
  if (rel === '' || rel.startsWith('..')) return undefined;
  const full = join(root, rel);
  if (!full.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  try {
    return statSync(full).isFile() ? rel : undefined;
  } catch {
    return undefined;
  }
}

/** `dir`: the built console (with index.html); undefined or missing: the route says how to build it. */
export async function registerConsoleRoutes(app: FastifyInstance, dir: string | undefined): Promise<void> {
  const built = dir !== undefined && existsSync(join(dir, 'index.html'));
  // preCompressed: the build wrote x.js.br and x.js.gz beside each asset (web/vite.config.ts).
  if (built) await app.register(fastifyStatic, { root: dir, serve: false, preCompressed: true });
  serve(app, CONSOLE_ROUTES.console, async (req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    if (isApiPath(path)) {
      throw new NotFoundError('route', undefined, path, `no route ${req.method} ${path}; see docs/api.md for the routes`);
    }
    reply.header('content-security-policy', CONSOLE_CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
    if (!built) {
      return reply.code(404).type('text/plain; charset=utf-8').send('The console is not built: run `npm run build` (it builds web/ into web/dist).\n');
    }
    const file = fileOf(dir, path);
    if (file !== undefined) {
      // Vite names assets by content hash: they never change under one name.
      const immutable = file.startsWith('assets/');
      return reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache').sendFile(file, { cacheControl: false });
    }
    if (/\.[a-z0-9]+$/i.test(path)) {
      return reply.code(404).type('text/plain; charset=utf-8').send(`no such file: ${path}\n`);
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
}
