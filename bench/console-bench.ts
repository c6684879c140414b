// Scenario `console`: a cold load of the console's /services page in Chromium (Debian's, driven
// by playwright-core) against a real server started in this process holding N services. Each run
// is a fresh browser context (empty cache). Prints the JavaScript bytes the page fetched
// (as transferred, and as gzip would send them), the time until the list shows every service and
// answers input (time to interactive, from the Performance API), and the longest main-thread task
// (Long Tasks API) while loading and while scrolling the whole list.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { createHttpClient } from '../src/client/http-client.js';
import { AppError, API_VERSION } from '../src/core/index.js';
import { startServer } from '../src/server/index.js';
import { percentile } from './lib/stats.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenario.js';

const REPO = resolve(import.meta.dirname, '..');
const DIST = join(REPO, 'web/dist');
const JS_TARGET_KB = 300;
const TTI_TARGET_MS = 1000;
const LONG_TASK_TARGET_MS = 100;
/** Scrolled per frame: 600 px each 16 ms is a fast flick (about 37,000 px/s), 16 rows a frame. */
const SCROLL_STEP_PX = 600;

export const consoleBench: Scenario = {
  name: 'console',
  description: 'cold /services in Chromium: JS bytes (gzip), time to interactive, longest task while loading and scrolling N services',
  flags: {
    runs: { type: 'string', default: '5', value: '<n>', description: 'cold loads (the median is reported)' },
    services: { type: 'string', default: '1000', value: '<n>', description: 'services the server holds (the list is virtualized; 5000 scrolls as well)' },
    chromium: { type: 'string', default: '/usr/bin/chromium', value: '<path>', description: "the browser (Debian's chromium)" },
  },
  run: (flags, ctx) => runConsoleBench(flags.int('runs', 1, 100), flags.int('services', 0, 100_000), flags.string('chromium') ?? '/usr/bin/chromium', ctx),
};

interface LoadFigures {
  jsTransferBytes: number;
  jsGzipBytes: number;
  jsFiles: number;
  ttiMs: number;
  longestLoadTaskMs: number;
  longestScrollTaskMs: number;
  listMs: number;
  scriptDoneMs: number;
}

/** The gzip size of a built asset (the build writes x.js.gz beside x.js). */
function gzipSizeOf(url: string): number {
  const path = join(DIST, new URL(url).pathname);
  return existsSync(`${path}.gz`) ? statSync(`${path}.gz`).size : statSync(path).size;
}

async function runConsoleBench(runs: number, services: number, chromiumPath: string, ctx: ScenarioContext): Promise<ScenarioResult> {
  if (!existsSync(join(DIST, 'index.html'))) throw new AppError('UNAVAILABLE', 'the console is not built: npm run build first');
  if (!existsSync(chromiumPath)) throw new AppError('UNAVAILABLE', `no browser at ${chromiumPath}: apt-get install chromium (scripts/ensure.sh does)`);
  const dataDir = await mkdtemp(join(tmpdir(), 'gantry-bench-console-'));
  const server = await startServer({ dataDir, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }), version: 'bench', dnsListen: [] });
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
  try {
    const client = createHttpClient({ server: server.url, token: server.adminToken, ca: server.tls?.ca.certPem });
    const made = Date.now();
    for (let k = 0; k < services; k += 50) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await Promise.all(
        Array.from({ length: Math.min(50, services - k) }, (_, j) =>
          client.apply({ apiVersion: API_VERSION, kind: 'Service', metadata: { name: `web-${String(k + j).padStart(5, '0')}` }, spec: { replicas: 0, containers: [{ name: 'web', image: 'gantry-examples/hello:1' }] } }),
        ),
      );
    }
    const setupSeconds = (Date.now() - made) / 1000;
    const loads: LoadFigures[] = [];
    for (let r = 0; r < runs; r++) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
      // The signed-in state (a token in sessionStorage) and a Long Tasks observer, before any page script.
      // Browser code as text: this file is type-checked for Node, without the DOM's types.
      await context.addInitScript({
        content: `sessionStorage.setItem('gantry.token', ${JSON.stringify(server.adminToken)});
          window.__longTasks = [];
          new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });`,
      });
      const page = await context.newPage();
      await page.goto(`${server.url}/services`);
      // Interactive: every service is listed (the count badge) and the filter field takes input.
      await page.getByTestId('service-count').filter({ hasText: `${services} of ${services}` }).waitFor({ timeout: 60_000 });
      await page.getByLabel('Filter services').waitFor({ state: 'visible' });
      const ttiMs = await page.evaluate(() => performance.now());
      const resources = await page.evaluate<{ name: string; transfer: number }[]>(
        "performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.js')).map((e) => ({ name: e.name, transfer: e.transferSize }))",
      );
      const loadTasks = await page.evaluate<number[]>('window.__longTasks');
      const listMs = await page.evaluate<number>(
        "(() => { const e = performance.getEntriesByType('resource').find((r) => /\\/services$/.test(r.name)); return e ? e.responseEnd - e.startTime : 0; })()",
      );
      const scriptDoneMs = await page.evaluate<number>(
        "(() => { const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith('.js')); return e ? e.responseEnd : 0; })()",
      );
      await page.evaluate('window.__longTasks = []');
      const scroller = "document.querySelector('[data-testid=services-scroller]')";
      const height = await page.evaluate<number>(`${scroller}.scrollHeight`);
      for (let y = 0; y <= height; y += SCROLL_STEP_PX) {
        await page.evaluate(`${scroller}.scrollTo({ top: ${y} })`);
        await page.waitForTimeout(16);
      }
      const scrollTasks = await page.evaluate<number[]>('window.__longTasks');
      loads.push({
        jsTransferBytes: resources.reduce((n, e) => n + e.transfer, 0),
        jsGzipBytes: resources.reduce((n, e) => n + gzipSizeOf(e.name), 0),
        jsFiles: resources.length,
        ttiMs,
        longestLoadTaskMs: Math.max(0, ...loadTasks),
        longestScrollTaskMs: Math.max(0, ...scrollTasks),
        listMs,
        scriptDoneMs,
      });
      await context.close();
    }
    const med = (f: (l: LoadFigures) => number): number => Math.round(percentile(loads.map(f), 50));
    const kb = (b: number): number => Math.round(b / 102.4) / 10;
    const figures = {
      services,
      runs,
      jsGzipKB: kb(med((l) => l.jsGzipBytes)),
      jsTransferKB: kb(med((l) => l.jsTransferBytes)),
      jsFiles: med((l) => l.jsFiles),
      ttiMedianMs: med((l) => l.ttiMs),
      ttiMaxMs: Math.round(Math.max(...loads.map((l) => l.ttiMs))),
      scriptLoadedMedianMs: med((l) => l.scriptDoneMs),
      listFetchMedianMs: med((l) => l.listMs),
      longestLoadTaskMs: Math.round(Math.max(...loads.map((l) => l.longestLoadTaskMs))),
      longestScrollTaskMs: Math.round(Math.max(...loads.map((l) => l.longestScrollTaskMs))),
      setupSeconds: Math.round(setupSeconds * 10) / 10,
      jsTargetKB: JS_TARGET_KB,
      ttiTargetMs: TTI_TARGET_MS,
    };
    const violations: string[] = [];
    if (figures.jsGzipKB > JS_TARGET_KB) violations.push(`cold /services loads ${figures.jsGzipKB} KB of gzipped JavaScript (target <= ${JS_TARGET_KB} KB)`);
    if (figures.ttiMedianMs > TTI_TARGET_MS) violations.push(`/services interactive after ${figures.ttiMedianMs} ms (median; target <= ${TTI_TARGET_MS} ms)`);
    if (figures.longestScrollTaskMs > LONG_TASK_TARGET_MS) violations.push(`a task of ${figures.longestScrollTaskMs} ms while scrolling ${services} services (target <= ${LONG_TASK_TARGET_MS} ms)`);
    return {
      title: `console: cold /services in Chromium, ${services} services, ${runs} runs (fresh context each)`,
      summary: [
        `JavaScript: ${figures.jsGzipKB} KB gzipped (${figures.jsFiles} files; ${figures.jsTransferKB} KB as transferred, brotli; target <= ${JS_TARGET_KB} KB)`,
        `time to interactive: median ${figures.ttiMedianMs} ms, max ${figures.ttiMaxMs} ms (all ${services} services listed, filter ready; target <= ${TTI_TARGET_MS} ms)`,
        `  of which: the script loaded at ${figures.scriptLoadedMedianMs} ms, the services list took ${figures.listFetchMedianMs} ms to fetch (medians)`,
        `longest task: ${figures.longestLoadTaskMs} ms while loading, ${figures.longestScrollTaskMs} ms while scrolling the whole list ${SCROLL_STEP_PX} px a frame (target <= ${LONG_TASK_TARGET_MS} ms scrolling)`,
      ],
      figures,
      charts: [],
      violations,
    };
  } finally {
    await browser.close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
