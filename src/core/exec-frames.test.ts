import { describe, expect, it } from 'vitest';
import { decodeExecFrame, encodeExecFrame, type ExecFrame } from './exec-frames.js';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('exec frames', () => {
  it('puts the channel byte first and the raw bytes after it', () => {
    expect(encodeExecFrame({ channel: 0, data: bytes(104, 105, 10) })).toEqual(bytes(0, 104, 105, 10));
    expect(encodeExecFrame({ channel: 4, size: { cols: 80, rows: 24 } })).toEqual(new Uint8Array([4, ...new TextEncoder().encode('{"cols":80,"rows":24}')]));
  });

  it('round-trips every channel', () => {
    const frames: ExecFrame[] = [
      { channel: 0, data: bytes() },
      { channel: 1, data: bytes(0, 255, 27) },
      { channel: 2, data: bytes(7) },
      { channel: 3, status: { reason: 'exited', exitCode: 3 } },
      { channel: 3, status: { reason: 'agent-lost', message: 'node n1 stopped answering' } },
      { channel: 4, size: { cols: 132, rows: 50 } },
    ];
    for (const f of frames) expect(decodeExecFrame(encodeExecFrame(f))).toEqual(f);
  });

  it('refuses empty messages, unknown channels and malformed control payloads', () => {
    expect(() => decodeExecFrame(bytes())).toThrow('empty exec frame');
    expect(() => decodeExecFrame(bytes(9, 1))).toThrow('unknown exec channel 9');
    expect(() => decodeExecFrame(bytes(3, 123))).toThrow('not JSON');
    const enc = (ch: number, v: unknown) => new Uint8Array([ch, ...new TextEncoder().encode(JSON.stringify(v))]);
    expect(() => decodeExecFrame(enc(3, { reason: 'exited', exitCode: 1.5 }))).toThrow('exec status frame');
    expect(() => decodeExecFrame(enc(3, { reason: 'bored', message: 'x' }))).toThrow('exec status frame');
    expect(() => decodeExecFrame(enc(4, { cols: 0, rows: 24 }))).toThrow('exec resize frame');
    expect(() => decodeExecFrame(enc(4, [80, 24]))).toThrow('exec resize frame');
  });
});
