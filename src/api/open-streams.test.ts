// OpenStreams keeps each credential's keep-alive connections so a revoke can end them; one
// connection may carry many credentials (gantry sim's hollow nodes share a pool).
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { OpenStreams } from './open-streams.js';

/** A socket stand-in: an emitter whose destroy() emits close, as a net.Socket's does. */
function aSocket(): Socket & { destroyed: boolean } {
  const s = new EventEmitter() as unknown as Socket & { destroyed: boolean };
  s.destroyed = false;
  s.destroy = (() => {
    s.destroyed = true;
    s.emit('close');
    return s;
  });
  return s;
}

describe('OpenStreams sockets', () => {
  it('adds one close listener per connection however many credentials use it, and forgets them all when it closes', () => {
    const streams = new OpenStreams();
    const shared = aSocket();
    for (let i = 0; i < 1000; i++) streams.noteSocket(`node-${i}`, shared);
    streams.noteSocket('node-0', shared);
    expect(shared.listenerCount('close')).toBe(1);
    shared.emit('close');
    // Nothing left for any of them: revoking one now closes nothing.
    expect(streams.closeOwner('node-7')).toBe(0);
  });

  it("ends a revoked credential's connections only", () => {
    const streams = new OpenStreams();
    const a = aSocket();
    const b = aSocket();
    streams.noteSocket('node-a', a);
    streams.noteSocket('node-b', b);
    expect(streams.closeOwner('node-a')).toBe(1);
    expect(a.destroyed).toBe(true);
    expect(b.destroyed).toBe(false);
    expect(streams.closeOwner('node-b')).toBe(1);
  });
});
