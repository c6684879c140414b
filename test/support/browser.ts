// Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core (never a
// downloaded browser). Screenshots go to .gantry-test/artifacts/ (GANTRY_ARTIFACTS overrides).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page, type Response } from 'playwright-core';
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

/**
 * page.goto, again when Chromium aborted it with net::ERR_NETWORK_CHANGED: Docker adding or
 * removing a container's veth interface on this host is a "network change" to Chromium, and a
 * navigation in flight at that moment fails (seen in CI). Any other failure is thrown at once.
 */
export async function gotoSettled(page: Page, url: string): Promise<Response | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.goto(url);
    } catch (e) {
      if (attempt >= 3 || !(e instanceof Error) || !e.message.includes('ERR_NETWORK_CHANGED')) throw e;
    }
  }
}
