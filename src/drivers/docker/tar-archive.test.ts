import { describe, expect, it } from 'vitest';
import { tarArchive } from './tar-archive.js';

const field = (buf: Buffer, offset: number, length: number): string => buf.subarray(offset, offset + length).toString('utf8').replace(/\0.*$/s, '');

describe('tarArchive', () => {
  it('writes one ustar entry per file with mode, size and a valid checksum, padded to 512', () => {
    const tar = tarArchive([{ path: '/etc/app/a.conf', mode: 0o640, content: 'hello' }], 0);
    expect(tar.length).toBe(512 + 512 + 1024);
    expect(field(tar, 0, 100)).toBe('etc/app/a.conf');
    expect(field(tar, 100, 8)).toBe('0000640');
    expect(parseInt(field(tar, 124, 12), 8)).toBe(5);
    expect(field(tar, 257, 6)).toBe('ustar');
    const stored = parseInt(field(tar, 148, 8), 8);
    const copy = Buffer.from(tar.subarray(0, 512));
    copy.fill(' ', 148, 156);
    expect(stored).toBe(copy.reduce((a, b) => a + b, 0));
    expect(tar.subarray(512, 517).toString()).toBe('hello');
  });

  it('splits long paths into prefix and name, and refuses what ustar cannot hold', () => {
    const dir = `/${'d'.repeat(120)}`;
    const tar = tarArchive([{ path: `${dir}/file.txt`, mode: 0o644, content: '' }], 0);
    expect(field(tar, 0, 100)).toBe('file.txt');
    expect(field(tar, 345, 155)).toBe(dir.slice(1));
    expect(() => tarArchive([{ path: `/${'x'.repeat(120)}`, mode: 0o644, content: '' }])).toThrow(/too long/);
  });
});
