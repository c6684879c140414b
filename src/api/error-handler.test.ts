import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  ExpiredError,
  ForbiddenError,
  HTTP_STATUS,
  ImageNotFoundError,
  InternalError,
  InvalidError,
  MalformedError,
  NotFoundError,
  PortConflictError,
  StaleRevisionError,
  TooLargeError,
  UnauthorizedError,
  UnavailableError,
  UsageError,
  type AppError,
} from '../core/index.js';
import { registerErrorHandler } from './error-handler.js';

const ERRORS: AppError[] = [
  new MalformedError('the request body is not valid JSON'),
  new UsageError('--replicas must be a whole number'),
  new UnauthorizedError('no token'),
  new ForbiddenError('admins do not write status'),
  new NotFoundError('Service', 'default', 'web'),
  new ImageNotFoundError('nope:1', 'image "nope:1" not found locally and could not be pulled: no such host'),
  new ConflictError('service "default/web" already exists'),
  new StaleRevisionError('Service', 'default', 'web', 7, 'service "default/web" was changed: it is at revision 7; read it again and retry'),
  new PortConflictError('cannot start container abc: port is already allocated', [8080]),
  new ExpiredError('revision 3 is no longer kept'),
  new TooLargeError('the request body is larger than this server takes (1 MiB)', 2 ** 20),
  new InvalidError('service "web" is invalid: 1 problem', [{ path: 'spec.replicas', message: 'must be a whole number' }]),
  new InternalError('a broken invariant'),
  new UnavailableError('the agent of node "n1" does not answer'),
];

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function appThrowing() {
  const app = Fastify({ bodyLimit: 64 * 1024 });
  registerErrorHandler(app);
  app.get<{ Params: { i: string } }>('/fail/:i', async (req) => {
    throw ERRORS[Number(req.params.i)]!;
  });
  app.post('/echo', async (req) => req.body);
  app.get('/bug', async () => {
    throw new TypeError('x is undefined');
  });
  await app.ready();
  close = () => app.close();
  return app;
}

describe('the API error handler', () => {
  it.each(ERRORS.map((e, i) => [e.name, i] as const))('answers a thrown %s with its code\'s status and the one body shape', async (_, i) => {
    const app = await appThrowing();
    const e = ERRORS[i]!;
    const res = await app.inject({ method: 'GET', url: `/fail/${i}` });
    expect(res.statusCode).toBe(HTTP_STATUS[e.code]);
    expect(res.json()).toEqual({ error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } });
  });

  it('answers a bug with 500 INTERNAL, without its message', async () => {
    const res = await (await appThrowing()).inject({ method: 'GET', url: '/bug' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error; the server log has the details' } });
  });

  it('answers a body over the limit with 413 TOO_LARGE naming the limit', async () => {
    const app = await appThrowing();
    const ok = await app.inject({ method: 'POST', url: '/echo', payload: { data: 'x'.repeat(1000) } });
    expect(ok.statusCode).toBe(200);
    const res = await app.inject({ method: 'POST', url: '/echo', payload: { data: 'x'.repeat(65 * 1024) } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'TOO_LARGE', message: 'the request body is larger than this server takes (64 KiB): send a smaller object, or split a batch' } });
  });

  it('answers an unknown route with 404 NOT_FOUND', async () => {
    const res = await (await appThrowing()).inject({ method: 'GET', url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toEqual({ code: 'NOT_FOUND', message: 'no route GET /nope; see docs/api.md for the routes' });
  });
});
