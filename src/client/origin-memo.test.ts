import { describe, expect, it } from 'vitest';
import { OriginMemo, REFUSAL_MEMORY_MS } from './origin-memo.js';

describe('OriginMemo', () => {
  const url = new URL('https://127.0.0.1:7443/v1/x');
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7443'), { code: 'ECONNREFUSED' });

  it('remembers a refusal for REFUSAL_MEMORY_MS, per origin, and forgets it on an answer', () => {
    let now = 1000;
    const memo = new OriginMemo(() => now);
    expect(memo.recentRefusal(url)).toBeUndefined();
    memo.noteFailure(url.origin, refused);
    now += REFUSAL_MEMORY_MS - 1;
    expect(memo.recentRefusal(url)).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', message: expect.stringContaining('127.0.0.1:7443 (refused 249 ms ago') });
    expect(memo.recentRefusal(new URL('https://127.0.0.1:7444/'))).toBeUndefined();
    now += 1;
    expect(memo.recentRefusal(url)).toBeUndefined();
    memo.noteFailure(url.origin, refused);
    memo.noteAnswer(url.origin);
    expect(memo.recentRefusal(url)).toBeUndefined();
  });

  it('remembers refusals only: a reset, a timeout or a TLS failure may pass at the next try', () => {
    const memo = new OriginMemo(() => 0);
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'ERR_TLS_CERT_ALTNAME_INVALID', undefined]) memo.noteFailure(url.origin, Object.assign(new Error('x'), { code }));
    memo.noteFailure(url.origin, null);
    expect(memo.recentRefusal(url)).toBeUndefined();
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
