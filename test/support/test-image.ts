// The one image Docker tests run: busybox on scratch, built locally because this machine has no
// registry. Built once and kept (it is 2 MB and every Docker test reuses it); tests remove their
// containers, not this image.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TEST_IMAGE = 'gantry-test/busybox:1';
const BUSYBOX = '/bin/busybox';

// Exec form throughout: a scratch image has no /bin/sh until busybox installs its applets.
const DOCKERFILE = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "mkdir", "-p", "/tmp", "/www"]
`;

async function imageExists(image: string): Promise<boolean> {
  try {
    await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image]);
    return true;
  } catch {
    return false;
  }
}

/** Builds `gantry-test/busybox:1` unless it exists; returns the image name. Needs the docker CLI and /bin/busybox. */
export async function ensureTestImage(): Promise<string> {
  if (await imageExists(TEST_IMAGE)) return TEST_IMAGE;
  const context = await mkdtemp(join(tmpdir(), 'gantry-test-image-'));
  try {
    await copyFile(BUSYBOX, join(context, 'busybox'));
    await writeFile(join(context, 'Dockerfile'), DOCKERFILE);
    await run('docker', ['build', '--quiet', '--label', 'io.gantry.test=1', '--tag', TEST_IMAGE, context], {
      timeout: 120_000,
    });
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr?.trim();
    throw new Error(`could not build test image ${TEST_IMAGE} from ${BUSYBOX}: ${stderr || String(e)}`);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return TEST_IMAGE;
}
