import { describe, expect, it, vi } from 'vitest';
import { ConflictError, NotFoundError, StaleRevisionError, UnavailableError } from '../core/index.js';
import { CONFLICT_ATTEMPTS, retryOnConflict } from './retry-on-conflict.js';

const stale = (n: number) => new StaleRevisionError('Service', 'default', 'web', n + 1, `service "default/web" was changed (attempt ${n})`);

describe('retryOnConflict', () => {
  it('runs the attempt again after a lost race and returns what the winning attempt returns', async () => {
    const attempt = vi.fn(async (n: number) => {
      if (n < 3) throw stale(n);
      return `written on attempt ${n}`;
    });
    await expect(retryOnConflict(attempt)).resolves.toBe('written on attempt 3');
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it('retries a 409 that came through the client (a plain ConflictError) too', async () => {
    let calls = 0;
    const result = await retryOnConflict(async () => {
      if (++calls === 1) throw new ConflictError('node "n1" changed');
      return 'ok';
    });
    expect([result, calls]).toEqual(['ok', 2]);
  });

  it('gives up after N attempts with the last conflict', async () => {
    const attempt = vi.fn(async (n: number): Promise<string> => {
      throw stale(n);
    });
    const err = await retryOnConflict(attempt).catch((e: unknown) => e);
    expect(attempt).toHaveBeenCalledTimes(CONFLICT_ATTEMPTS);
    expect(err).toBeInstanceOf(StaleRevisionError);
    expect((err as Error).message).toBe(`service "default/web" was changed (attempt ${CONFLICT_ATTEMPTS})`);
    const twice = vi.fn(async (n: number): Promise<string> => {
      throw stale(n);
    });
    await expect(retryOnConflict(twice, { attempts: 2 })).rejects.toThrow('(attempt 2)');
    expect(twice).toHaveBeenCalledTimes(2);
  });

  it('does not retry other errors', async () => {
    for (const error of [new NotFoundError('Service', 'default', 'web'), new UnavailableError('the store is closed'), new TypeError('a bug')]) {
      const attempt = vi.fn(async (): Promise<string> => {
        throw error;
      });
      await expect(retryOnConflict(attempt)).rejects.toBe(error);
      expect(attempt).toHaveBeenCalledTimes(1);
    }
  });

  it('retries only what `retryable` accepts', async () => {
    const refusal = new ConflictError('instance i1 is Succeeded; it has completed and does not run again');
    const refused = vi.fn(async (): Promise<string> => {
      throw refusal;
    });
    await expect(retryOnConflict(refused, { retryable: (e) => e instanceof StaleRevisionError })).rejects.toBe(refusal);
    expect(refused).toHaveBeenCalledTimes(1);
    const gone = vi.fn(async (n: number) => {
      if (n === 1) throw new NotFoundError('Event', 'default', 'e1');
      return n;
    });
    await expect(retryOnConflict(gone, { retryable: (e) => e instanceof NotFoundError })).resolves.toBe(2);
  });

  it('stops on abort: not started when already aborted, and no retry once aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('shutting down'));
    const never = vi.fn(async () => 'x');
    await expect(retryOnConflict(never, { signal: ac.signal })).rejects.toThrow('shutting down');
    expect(never).not.toHaveBeenCalled();

    const live = new AbortController();
    const attempt = vi.fn(async (n: number): Promise<string> => {
      live.abort(new Error('lease lost'));
      throw stale(n);
    });
    const err = await retryOnConflict(attempt, { signal: live.signal }).catch((e: unknown) => e);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(err).toBeInstanceOf(StaleRevisionError);
  });

  it('tells onRetry about each lost race', async () => {
    const seen: number[] = [];
    await retryOnConflict(
      async (n) => {
        if (n < 3) throw stale(n);
        return n;
      },
      { onRetry: (_, n) => seen.push(n) },
    );
    expect(seen).toEqual([1, 2]);
  });
});
