import { describe, expect, it } from 'vitest';
import { OriginMemo, PROBE_MAX_MS, REFUSAL_MEMORY_MS } from './origin-memo.js';

describe('OriginMemo', () => {
  const url = new URL('https://127.0.0.1:7443/v1/x');
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7443'), { code: 'ECONNREFUSED' });

  it('remembers a refusal for REFUSAL_MEMORY_MS, per origin, then lets one attempt probe while the rest fail at once', () => {
    let now = 1000;
    const memo = new OriginMemo(() => now);
    expect(memo.recentRefusal(url)).toBeUndefined();
    memo.noteFailure(url.origin, refused);
    now += REFUSAL_MEMORY_MS - 1;
    expect(memo.recentRefusal(url)).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', message: expect.stringContaining('127.0.0.1:7443 (refused 249 ms ago; not tried again') });
    expect(memo.recentRefusal(new URL('https://127.0.0.1:7444/'))).toBeUndefined();
    now += 1;
    expect(memo.recentRefusal(url)).toBeUndefined(); // the probe
    expect(memo.recentRefusal(url)).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringContaining('another attempt is finding out') });
    // The probe was refused too: the window starts again.
    memo.noteFailure(url.origin, refused);
    expect(memo.recentRefusal(url)?.message).toContain('not tried again');
    now += REFUSAL_MEMORY_MS;
    expect(memo.recentRefusal(url)).toBeUndefined(); // the next probe
    // Its connection is made: nothing fails at once any more.
    memo.noteConnected(url.origin);
    expect(memo.recentRefusal(url)).toBeUndefined();
    expect(memo.recentRefusal(url)).toBeUndefined();
  });

  it('lets another attempt probe when the probe takes longer than PROBE_MAX_MS', () => {
    let now = 0;
    const memo = new OriginMemo(() => now);
    memo.noteFailure(url.origin, refused);
    now += REFUSAL_MEMORY_MS;
    expect(memo.recentRefusal(url)).toBeUndefined();
    now += PROBE_MAX_MS - 1;
    expect(memo.recentRefusal(url)).toBeDefined();
    now += 1;
    expect(memo.recentRefusal(url)).toBeUndefined();
  });

  it('remembers refusals only: other failures neither start nor end one', () => {
    const memo = new OriginMemo(() => 0);
    const others = ['ECONNRESET', 'ETIMEDOUT', 'ABORT_ERR', undefined].map((code) => Object.assign(new Error('x'), { code }));
    for (const e of [...others, null]) memo.noteFailure(url.origin, e);
    expect(memo.recentRefusal(url)).toBeUndefined();
    memo.noteFailure(url.origin, refused);
    for (const e of others) memo.noteFailure(url.origin, e);
    expect(memo.recentRefusal(url)).toBeDefined();
  });

  it('keeps the last TLS session per origin', () => {
    const memo = new OriginMemo();
    expect(memo.session(url.origin)).toBeUndefined();
    memo.noteSession(url.origin, Buffer.from('a'));
    memo.noteSession(url.origin, Buffer.from('b'));
    expect(memo.session(url.origin)?.toString()).toBe('b');
    expect(memo.session('https://127.0.0.1:1')).toBeUndefined();
  });
});
