import { Readable } from 'node:stream';
import { extract, type Headers } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { tarArchive } from './tar-archive.js';

const field = (buf: Buffer, offset: number, length: number): string => buf.subarray(offset, offset + length).toString('utf8').replace(/\0.*$/s, '');

/** Every entry of an archive as an unpacker (Docker's) reads it. */
async function unpack(tar: Buffer): Promise<{ header: Headers; body: string }[]> {
  const entries: { header: Headers; body: string }[] = [];
  const ex = extract();
  ex.on('entry', (header: Headers, stream: NodeJS.ReadableStream, next: () => void) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      entries.push({ header, body: Buffer.concat(chunks).toString('utf8') });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve).on('error', reject);
    Readable.from([tar]).pipe(ex);
  });
  return entries;
}

describe('tarArchive', () => {
  it('writes one ustar entry per file, root-owned, with its mode and size, padded to 512', async () => {
    const tar = await tarArchive([{ path: '/etc/app/a.conf', mode: 0o640, content: 'hello' }], new Date(0));
    expect(tar.length % 512).toBe(0);
    expect(field(tar, 0, 100)).toBe('etc/app/a.conf');
    expect(field(tar, 100, 8)).toBe('000640 ');
    expect(field(tar, 257, 6)).toBe('ustar');
    const stored = parseInt(field(tar, 148, 8), 8);
    const copy = Buffer.from(tar.subarray(0, 512));
    copy.fill(' ', 148, 156);
    expect(stored).toBe(copy.reduce((a, b) => a + b, 0));
    expect(tar.subarray(512, 517).toString()).toBe('hello');
    const [entry, ...rest] = await unpack(tar);
    expect(rest).toEqual([]);
    expect(entry?.body).toBe('hello');
    expect(entry?.header).toMatchObject({ name: 'etc/app/a.conf', type: 'file', mode: 0o640, uid: 0, gid: 0, uname: 'root', gname: 'root', size: 5 });
  });

  it('holds several files, no directory entries, setuid bits kept and other mode bits dropped', async () => {
    const tar = await tarArchive([
      { path: '/a/b/run.sh', mode: 0o104755, content: '#!/bin/sh\n' },
      { path: 'tmp/x', mode: 0o600, content: '' },
    ]);
    const entries = await unpack(tar);
    expect(entries.map((e) => [e.header.name, e.header.type, e.header.mode, e.body])).toEqual([
      ['a/b/run.sh', 'file', 0o4755, '#!/bin/sh\n'],
      ['tmp/x', 'file', 0o600, ''],
    ]);
  });

  it('keeps paths longer than ustar holds (split into prefix and name, or a pax header)', async () => {
    const dir = `/${'d'.repeat(120)}`;
    const split = await tarArchive([{ path: `${dir}/file.txt`, mode: 0o644, content: '' }]);
    expect(field(split, 0, 100)).toBe('file.txt');
    expect(field(split, 345, 155)).toBe(dir.slice(1));
    const long = `${'x'.repeat(300)}/${'y'.repeat(150)}`;
    const entries = await unpack(await tarArchive([{ path: `/${long}`, mode: 0o644, content: 'z' }]));
    expect(entries.map((e) => [e.header.name, e.body])).toEqual([[long, 'z']]);
  });
});
