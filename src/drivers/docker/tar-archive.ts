// The tar stream for Docker's archive endpoint (PUT /containers/{id}/archive), written by
// tar-stream: regular files only, owned by root, with their modes. Parent directories are left out
// on purpose: Docker creates missing ones (0755) when it unpacks, while a directory entry would
// re-mode an existing directory such as /tmp. Paths longer than ustar holds get a pax header.
import { pack } from 'tar-stream';
import type { FileToCopy } from '../driver.js';

/** The archive that puts `files` at their absolute paths when unpacked at `/`. */
export async function tarArchive(files: readonly FileToCopy[], mtime = new Date()): Promise<Buffer> {
  const archive = pack();
  for (const f of files) {
    const body = Buffer.from(f.content, 'utf8');
    const name = f.path.replace(/^\/+/, '');
    archive.entry({ name, type: 'file', mode: f.mode & 0o7777, uid: 0, gid: 0, uname: 'root', gname: 'root', size: body.length, mtime }, body);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
