// Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core (never a
// downloaded browser). Screenshots go to .gantry-test/artifacts/ (GANTRY_ARTIFACTS overrides).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO } from './gantry-process.js';

export const CHROMIUM = process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
}

/** The folder for this test's screenshots and other artifacts (made if missing). */
export function artifactsDir(name: string): string {
  const dir = join(process.env.GANTRY_ARTIFACTS ?? join(REPO, '.gantry-test', 'artifacts'), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
