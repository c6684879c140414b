import { describe, expect, it } from 'vitest';
import { OriginMemo, PROBE_MAX_MS, REFUSAL_MEMORY_MS, type Attempt } from './origin-memo.js';

describe('OriginMemo', () => {
  const url = new URL('https://127.0.0.1:7443/v1/x');
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7443'), { code: 'ECONNREFUSED' });
  const aborted = Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' });

  /** The attempt admit() let through; fails the test when it was refused. */
  function admitted(memo: OriginMemo, u = url): Attempt {
    const a = memo.admit(u);
    if ('refused' in a) throw new Error(`refused: ${a.refused.message}`);
    return a;
  }
  const refusal = (memo: OriginMemo, u = url): Error | undefined => {
    const a = memo.admit(u);
    return 'refused' in a ? a.refused : undefined;
  };

  it('remembers a refusal for REFUSAL_MEMORY_MS, per origin, then lets one attempt probe while the rest fail at once', () => {
    let now = 1000;
    const memo = new OriginMemo(() => now);
    const first = admitted(memo);
    expect(first.probe).toBe(false);
    memo.noteFailure(url.origin, refused, first);
    now += REFUSAL_MEMORY_MS - 1;
    expect(refusal(memo)).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', message: expect.stringContaining('127.0.0.1:7443 (refused 249 ms ago; not tried again') });
    expect(refusal(memo, new URL('https://127.0.0.1:7444/'))).toBeUndefined();
    now += 1;
    const probe = admitted(memo);
    expect(probe.probe).toBe(true);
    expect(refusal(memo)?.message).toContain('another attempt is finding out');
    // The probe is refused too: the window starts again, then another probe.
    memo.noteFailure(url.origin, refused, probe);
    expect(refusal(memo)?.message).toContain('not tried again');
    now += REFUSAL_MEMORY_MS;
    expect(admitted(memo).probe).toBe(true);
    // Its connection is made: nothing fails at once any more.
    memo.noteConnected(url.origin);
    expect(admitted(memo).probe).toBe(false);
    expect(admitted(memo).probe).toBe(false);
  });

  it('lets the next attempt probe at once when the probe fails otherwise (an abort), or after PROBE_MAX_MS', () => {
    let now = 0;
    const memo = new OriginMemo(() => now);
    memo.noteFailure(url.origin, refused, admitted(memo));
    now += REFUSAL_MEMORY_MS;
    const probe = admitted(memo);
    expect(refusal(memo)).toBeDefined();
    memo.noteFailure(url.origin, aborted, probe);
    expect(admitted(memo).probe).toBe(true);
    now += PROBE_MAX_MS - 1;
    expect(refusal(memo)).toBeDefined();
    now += 1;
    expect(admitted(memo).probe).toBe(true);
  });

  it('keeps a probe in flight when an older attempt is refused, and ignores refusals older than a connection', () => {
    let now = 0;
    const memo = new OriginMemo(() => now);
    const old = admitted(memo);
    const older = admitted(memo);
    memo.noteFailure(url.origin, refused, admitted(memo));
    now += REFUSAL_MEMORY_MS;
    const probe = admitted(memo);
    memo.noteFailure(url.origin, refused, old); // an attempt from before the probe
    now += REFUSAL_MEMORY_MS;
    expect(refusal(memo)?.message).toContain('another attempt is finding out');
    memo.noteConnected(url.origin); // the probe's connection
    expect(probe.probe).toBe(true);
    now += 1;
    memo.noteFailure(url.origin, refused, older); // started before that connection: stale
    expect(admitted(memo).probe).toBe(false);
  });

  it('remembers refusals only: other failures neither start nor end one', () => {
    const memo = new OriginMemo(() => 0);
    const others = ['ECONNRESET', 'ETIMEDOUT', 'ABORT_ERR', undefined].map((code) => Object.assign(new Error('x'), { code }));
    for (const e of [...others, null]) memo.noteFailure(url.origin, e, admitted(memo));
    expect(refusal(memo)).toBeUndefined();
    memo.noteFailure(url.origin, refused, admitted(memo));
    for (const e of others) memo.noteFailure(url.origin, e, { startedAt: 0, probe: false });
    expect(refusal(memo)).toBeDefined();
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
