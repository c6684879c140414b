// A minimal ustar writer for Docker's archive endpoint (PUT /containers/{id}/archive): regular
// files only, owned by root, with their modes. Parent directories are left out on purpose: Docker
// creates missing ones (0755) when it unpacks, while a directory entry would re-mode an existing
// directory such as /tmp. No npm package does this that the project already depends on directly.
import { AppError } from '../../core/index.js';
import type { FileToCopy } from '../driver.js';

const BLOCK = 512;

function writeString(buf: Buffer, text: string, offset: number, length: number): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > length) throw new AppError('INVALID', `"${text}" is too long for a tar header field of ${length} bytes`);
  bytes.copy(buf, offset);
}

/** Octal, zero-padded, NUL-terminated, as ustar numbers are. */
function writeOctal(buf: Buffer, value: number, offset: number, length: number): void {
  writeString(buf, `${value.toString(8).padStart(length - 1, '0')}\0`, offset, length);
}

/** Splits a path into ustar's name (100 bytes) and prefix (155 bytes) at a slash. */
function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new AppError('INVALID', `config file path "${path}" is too long: at most 100 bytes per file name and 255 in all`);
}

function header(path: string, mode: number, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const { name, prefix } = splitName(path);
  writeString(h, name, 0, 100);
  writeOctal(h, mode & 0o7777, 100, 8);
  writeOctal(h, 0, 108, 8); // uid root
  writeOctal(h, 0, 116, 8); // gid root
  writeOctal(h, size, 124, 12);
  writeOctal(h, mtime, 136, 12);
  h.fill(' ', 148, 156); // the checksum counts itself as spaces
  writeString(h, '0', 156, 1); // regular file
  writeString(h, 'ustar\0', 257, 6);
  writeString(h, '00', 263, 2);
  writeString(h, 'root', 265, 32);
  writeString(h, 'root', 297, 32);
  writeString(h, prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

/** The tar stream that puts `files` at their absolute paths when unpacked at `/`. */
export function tarArchive(files: readonly FileToCopy[], mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const body = Buffer.from(f.content, 'utf8');
    parts.push(header(f.path.replace(/^\/+/, ''), f.mode, body.length, mtime), body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
