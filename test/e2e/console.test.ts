// The web console in a real Chromium against a real server and dockerd: sign in, deploy through
// the form with a plan, a field error from the server at its field, hostile log text shown as
// text, scale from the UI, cordon from the UI; screenshots written as artifacts.
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker } from '../support/docker-cli.js';
import { artifactsDir, gotoSettled, launchChromium } from '../support/browser.js';
import { GantryProcesses } from '../support/gantry-process.js';
import { ensureTestImage } from '../support/test-image.js';
import { endpointOf, httpGet, instancesOf, readyCount } from '../support/instances.js';
import { waitFor } from '../support/wait.js';

const HOSTILE = '<img src=x onerror=alert(1)>';

/** Running containers of a service's instances, as Docker lists them (instance names are `<service>-xxxxx`). */
async function runningContainersOf(clusterId: string, service: string): Promise<number> {
  const out = await docker('ps', '--filter', `label=io.gantry.cluster=${clusterId}`, '--format', '{{.Label "io.gantry.instance"}}');
  return out.split('\n').filter((name) => new RegExp(`^${service}-[a-z0-9]{5}$`).test(name)).length;
}

describe('the web console', () => {
  // Stats sampled every second (default 10 s), so the CPU chart has points within the test.
  const t = {} as { g: GantryProcesses; image: string };
  beforeAll(async () => {
    t.image = await ensureTestImage();
    t.g = await GantryProcesses.create();
    await t.g.up(['--stats-interval', '1s']);
  });
  afterAll(async () => {
    await t.g?.close();
  });
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  const shots = artifactsDir('console');
  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    browser = await launchChromium();
    // The cluster CA is the test's own: the browser is told to accept it (the API client checks it in g.fetch).
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      // The console asks before a drain or a delete; an alert would be the XSS.
      void (d.type() === 'confirm' ? d.accept() : d.dismiss());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('serves the console with a strict CSP and asks for a token; a wrong one is refused', async () => {
    const res = await gotoSettled(page, `${t.g.url}/services`);
    expect(res?.status()).toBe(200);
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    await page.getByTestId('token').fill('gtu_nobody_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('signin-error').textContent()).toMatch(/unknown token/);
    expect(await page.evaluate("sessionStorage.getItem('gantry.token')")).toBeNull();
  });

  it('signs in with the admin token, kept in sessionStorage and never in the URL', async () => {
    await page.getByTestId('token').fill(t.g.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Deploy a service').waitFor();
    expect(page.url()).toBe(`${t.g.url}/services`);
    expect(page.url()).not.toContain(t.g.token);
    expect(await page.evaluate("sessionStorage.getItem('gantry.token')")).toBe(t.g.token);
  });

  it("shows a bad memory value's server error at the memory field, and stores nothing", async () => {
    await page.getByText('Deploy a service').click();
    await page.getByTestId('field-name').fill('web');
    await page.getByTestId('field-image').fill(t.image);
    await page.getByTestId('field-command').fill(`/bin/sh -c 'mkdir -p /www && echo "$GANTRY_INSTANCE" > /www/index.html && exec httpd -f -p 8080 -h /www'`);
    await page.getByTestId('field-ports').fill('http:8080');
    await page.getByTestId('field-cpu').fill('0.05');
    await page.getByTestId('field-memory').fill('lots');
    await page.getByTestId('field-replicas').fill('3');
    await page.getByTestId('field-healthPort').fill('http');
    // The YAML preview follows the form.
    await expect.poll(() => page.getByTestId('yaml').inputValue()).toContain('memory: lots');
    await page.getByTestId('plan-button').click();
    const memoryField = page.getByTestId('field-memory');
    // Mantine links the error to its input with aria-describedby.
    const errorId = await waitFor('the memory field to show an error', async () => (await memoryField.getAttribute('aria-describedby')) ?? undefined, 10_000);
    const errorText = await page.locator(`[id="${errorId.split(' ').find((id) => id.includes('error')) ?? errorId}"]`).textContent();
    expect(errorText).toMatch(/must be a quantity like 128Mi/);
    expect(await page.getByTestId('apply-button').isDisabled()).toBe(true);
    const stored = await t.g.fetch(`${t.g.url}/api/v1/namespaces/default/services/web`, { headers: { authorization: `Bearer ${t.g.token}` } });
    expect(stored.status).toBe(404);
    await shot('deploy-field-error');
  });

  it('deploys 3 replicas through the form: the plan shows 3 placements, then 3/3 ready that answer HTTP', async () => {
    await page.getByTestId('field-memory').fill('16Mi');
    await page.getByTestId('plan-button').click();
    const summary = page.getByTestId('placement-summary');
    await summary.waitFor();
    expect(await summary.textContent()).toBe('3 to place: 3 on e2e-node');
    expect(await page.getByTestId('diff').textContent()).toContain('replicas: 3');
    await shot('deploy-plan');
    await page.getByTestId('apply-button').click();
    await page.waitForURL(`${t.g.url}/services/default/web`);
    await expect.poll(() => page.getByTestId('service-ready').textContent(), { timeout: 90_000 }).toBe('3/3 ready');
    const items = await instancesOf(t.g, 'web');
    expect(readyCount(items)).toBe(3);
    expect(await runningContainersOf(t.g.clusterId, 'web')).toBe(3);
    const answers = await Promise.all(items.map((i) => httpGet(endpointOf(i))));
    expect(answers.map((a) => a.trim()).sort()).toEqual(items.map((i) => i.metadata.name).sort());
    await expect.poll(() => page.getByTestId('instance-row').count()).toBe(3);
    await shot('service-detail');
  });

  it('shows a hostile log line as text, and a line written after the page opened within 2 s', async () => {
    const r = await t.g.apply(`apiVersion: gantry/v1
kind: Service
metadata:
  name: noisy
spec:
  replicas: 1
  containers:
    - name: main
      image: ${t.image}
      command: ["/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo '${HOSTILE}' line $i; sleep 0.5; done"]
      resources: { cpu: 0.02, memory: 8Mi }
`);
    expect(r.stderr).toBe('');
    const [inst] = await waitFor('the noisy instance running', async () => {
      const l = await instancesOf(t.g, 'noisy');
      return l.length === 1 && l[0]!.status?.phase === 'Running' ? l : undefined;
    });
    await gotoSettled(page, `${t.g.url}/instances/default/${inst!.metadata.name}`);
    const lines = page.getByTestId('log-line');
    await lines.first().waitFor({ timeout: 15_000 });
    const lastNumber = async (): Promise<number> => Number(/line (\d+)$/.exec((await lines.last().textContent()) ?? '')?.[1] ?? 0);
    const seen = await lastNumber();
    const start = Date.now();
    await expect.poll(lastNumber, { timeout: 2_000, interval: 100 }).toBeGreaterThan(seen);
    expect(Date.now() - start).toBeLessThan(2_000);
    expect(await lines.first().textContent()).toContain(HOSTILE);
    expect(await page.getByTestId('log').locator('img').count()).toBe(0);
    expect(dialogs.filter((d) => d === '1')).toEqual([]);
    await shot('instance-detail');
    // Timestamps from the runtime: the log is read again, each line starting with its RFC 3339 time.
    await page.getByTestId('log-timestamps').click({ force: true });
    await expect.poll(async () => (await lines.first().textContent()) ?? '', { timeout: 10_000 }).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z /);
    await page.getByTestId('log-timestamps').click({ force: true });
  });

  it('runs echo $((6*7)) in the exec terminal, shows 42, and says how the session ended', async () => {
    await page.getByTestId('terminal-tab').click();
    await page.getByTestId('exec-open').click();
    // Typed at once, before the shell is there: it must arrive after the prompt, not above it.
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo $((6*7))\n');
    // The message rides along, so a session that ended at once says why.
    const stateAndMessage = async (): Promise<string> => {
      const state = await page.getByTestId('exec-state').textContent();
      const message = state === 'open' ? '' : ((await page.getByTestId('exec-message').textContent({ timeout: 100 }).catch(() => '')) ?? '');
      return message ? `${state}: ${message}` : (state ?? '');
    };
    await expect.poll(stateAndMessage, { timeout: 15_000 }).toBe('open');
    const screen = page.getByTestId('terminal').locator('.xterm-rows');
    await expect.poll(() => screen.innerText(), { timeout: 5_000 }).toMatch(/(^|\n)42\s*(\n|$)/);
    // What was typed early comes after the shell's banner and prompt, not above them.
    const text = await screen.innerText();
    expect(text.trimStart().startsWith('echo')).toBe(false);
    expect(text).toMatch(/# echo \$\(\(6\*7\)\)\s*\n42/);
    await shot('instance-terminal');
    await page.keyboard.type('exit 3\n');
    await expect.poll(() => page.getByTestId('exec-message').textContent(), { timeout: 10_000 }).toBe('The process exited with code 3.');
  });

  it('draws CPU points for a busy container, with its request as a line', async () => {
    const r = await t.g.apply(`apiVersion: gantry/v1
kind: Service
metadata:
  name: busy
spec:
  replicas: 1
  containers:
    - name: main
      image: ${t.image}
      command: ["/bin/sh", "-c", "while :; do :; done"]
      resources: { cpu: 0.2, memory: 8Mi }
`);
    expect(r.stderr).toBe('');
    const [inst] = await waitFor('the busy instance running', async () => {
      const l = await instancesOf(t.g, 'busy');
      return l.length === 1 && l[0]!.status?.phase === 'Running' ? l : undefined;
    });
    await gotoSettled(page, `${t.g.url}/instances/default/${inst!.metadata.name}`);
    await page.getByTestId('usage-tab').click();
    const cpu = page.getByTestId('cpu-chart');
    await expect.poll(async () => Number(await cpu.getAttribute('data-points')), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    expect(await cpu.locator('canvas').count()).toBe(1);
    expect(await cpu.textContent()).toMatch(/request/);
    await shot('instance-usage');
    // The service's instance table shows it too: CPU and memory now.
    await gotoSettled(page, `${t.g.url}/services/default/busy`);
    await expect.poll(async () => (await page.getByTestId('usage-now').first().textContent()) ?? '', { timeout: 20_000 }).toMatch(/^\d+\.\d\d CPU \/ [\d.]+ (B|KiB|MiB)$/);
  });

  it('shows the service\'s endpoints and what the load balancer does for it', async () => {
    await gotoSettled(page, `${t.g.url}/services/default/web`);
    await page.getByTestId('endpoints-tab').click();
    await expect.poll(async () => page.getByTestId('endpoints').locator('tbody tr').count(), { timeout: 10_000 }).toBe(3);
    // gantry up here runs no load balancer: the panel says so rather than showing nothing.
    await expect.poll(async () => (await page.getByText(/load balancer/i).allTextContents()).join(' '), { timeout: 10_000 }).toMatch(/no load balancer|Load balancer/);
    await shot('service-endpoints');
  });

  it('scales to 1 from the service page', async () => {
    await gotoSettled(page, `${t.g.url}/services/default/web`);
    await page.getByTestId('scale-input').fill('1');
    await page.getByTestId('scale-button').click();
    await expect.poll(() => page.getByTestId('service-ready').textContent(), { timeout: 60_000 }).toBe('1/1 ready');
    await waitFor('one web container left', async () => (await runningContainersOf(t.g.clusterId, 'web')) === 1, 60_000);
  });

  it('rolls out a change from the spec editor (edit, plan, apply) and undoes it from the rollout panel', async () => {
    await page.getByRole('tab', { name: 'Spec' }).click();
    const yaml = page.getByTestId('spec-yaml');
    const text = await yaml.inputValue();
    expect(text).toMatch(/\n(\s+)image: /);
    await yaml.fill(text.replace(/\n(\s+)(image: [^\n]+)/, '\n$1$2\n$1env:\n$1  COLOR: blue'));
    await page.getByTestId('spec-plan').click();
    await expect.poll(() => page.getByTestId('diff').textContent()).toContain('+         COLOR: blue');
    await page.getByTestId('spec-apply').click();
    type Svc = { spec: { containers: { env?: Record<string, string> }[] }; status?: { version?: number; readyReplicas?: number } };
    const rolled = await waitFor('version 2 rolled out and ready', async () => {
      const svc = await t.g.getJson<Svc>(['get', 'service', 'web']);
      return svc.status?.version === 2 && svc.status.readyReplicas === 1 ? svc : undefined;
    }, 60_000);
    expect(rolled.spec.containers[0]?.env).toEqual({ COLOR: 'blue' });
    await page.getByRole('tab', { name: 'Rollout' }).click();
    await page.getByTestId('rollout-undo').click();
    await page.getByTestId('action-message').waitFor();
    const undone = await waitFor('the undo back to the first template', async () => {
      const svc = await t.g.getJson<Svc>(['get', 'service', 'web']);
      return svc.spec.containers[0]?.env === undefined && (svc.status?.version ?? 0) >= 3 ? svc : undefined;
    }, 30_000);
    expect(undone.spec.containers[0]?.env).toBeUndefined();
    await expect.poll(() => page.getByTestId('service-ready').textContent(), { timeout: 60_000 }).toBe('1/1 ready');
  });

  it('cordons and uncordons the node from the nodes page', async () => {
    await gotoSettled(page, `${t.g.url}/nodes`);
    await page.getByTestId('cordon-e2e-node').click();
    await page.getByTestId('node-row-e2e-node').getByTestId('cordoned').waitFor({ timeout: 10_000 });
    const node = await t.g.getJson<{ spec: { unschedulable?: boolean } }>(['get', 'node', 'e2e-node']);
    expect(node.spec.unschedulable).toBe(true);
    await shot('nodes');
    await page.getByTestId('uncordon-e2e-node').click();
    await page.getByTestId('node-row-e2e-node').getByTestId('cordoned').waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('drains the node from the UI onto a second agent, then uncordons it', async () => {
    await t.g.startAgent('e2e-b', ['--driver', 'docker', '--publish-address', '127.0.0.1', '--port-range', '30000-30499', '--heartbeat-interval', '1s']);
    await gotoSettled(page, `${t.g.url}/nodes`);
    await page.getByTestId('node-row-e2e-b').getByText('Ready', { exact: true }).first().waitFor({ timeout: 60_000 });
    await page.getByTestId('drain-e2e-node').click(); // the confirm dialog is accepted above
    await page.getByTestId('node-row-e2e-node').getByTestId('draining').waitFor({ timeout: 10_000 });
    expect(dialogs.some((d) => d.startsWith('Drain e2e-node?'))).toBe(true);
    await waitFor('every service instance running on e2e-b', async () => {
      const list = await t.g.getJson<{ items: { spec: { node?: string }; status?: { phase?: string; ready?: boolean } }[] }>(['get', 'instances']);
      return list.items.length >= 3 && list.items.every((i) => i.spec.node === 'e2e-b' && i.status?.phase === 'Running');
    }, 120_000);
    await shot('nodes-drained');
    await page.getByTestId('uncordon-e2e-node').click();
    await page.getByTestId('node-row-e2e-node').getByTestId('draining').waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('lists instances in pages, filtering by service on the server and by phase in the page', async () => {
    await gotoSettled(page, `${t.g.url}/instances?ns=default`);
    const count = page.getByTestId('instance-count');
    await expect.poll(async () => Number(/of (\d+)/.exec((await count.textContent()) ?? '')?.[1] ?? 0), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const asked = page.waitForRequest((r) => r.url().includes('limit=1000') && r.url().includes('fieldSelector=spec.service%3Dweb'));
    await page.getByTestId('filter-service').fill('web');
    await asked;
    await expect.poll(async () => (await page.locator('[data-testid^=instance-row-]').allTextContents()).every((t) => t.startsWith('web-')), { timeout: 10_000 }).toBe(true);
    await page.getByTestId('filter-phase').click();
    await page.getByRole('option', { name: 'Running', exact: true }).click();
    await expect.poll(async () => (await page.getByTestId('phase').allTextContents()).every((t) => t.startsWith('Running')), { timeout: 10_000 }).toBe(true);
    expect(await page.getByTestId('phase').count()).toBeGreaterThanOrEqual(1);
    await shot('instances');
  });

  it('shows the overview live, and the page made no script error and no CSP violation', async () => {
    await gotoSettled(page, `${t.g.url}/`);
    await expect.poll(() => page.getByTestId('phases').textContent(), { timeout: 10_000 }).toMatch(/Running: 3/);
    await shot('overview');
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('keeps the namespace in the URL (deep link, switcher, back button), and shows a 403 as a page that names the role', async () => {
    const ns = await t.g.apply('apiVersion: gantry/v1\nkind: Namespace\nmetadata: { name: team-x }\n');
    expect(ns.code, ns.stderr).toBe(0);
    await gotoSettled(page, `${t.g.url}/services?ns=team-x`);
    await expect.poll(() => page.getByTestId('namespace').inputValue(), { timeout: 10_000 }).toBe('team-x');
    await page.getByTestId('namespace').selectOption('default');
    await expect.poll(() => new URL(page.url()).searchParams.get('ns')).toBe('default');
    await expect.poll(() => page.getByTestId('service-count').textContent(), { timeout: 10_000 }).toMatch(/of [1-9]/);
    await page.goBack();
    await expect.poll(() => page.getByTestId('namespace').inputValue(), { timeout: 10_000 }).toBe('team-x');
    await page.getByRole('link', { name: 'Nodes' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('ns')).toBe('team-x');

    // A person who may view default only, in a tab of their own, opens team-x.
    const made = await t.g.cli(['token', 'create', '--user', 'vera', '--role', 'view', '--namespace', 'default', '--ttl', '1h']);
    expect(made.code, made.stderr).toBe(0);
    const other = await context.browser()!.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
    try {
      const p2 = await other.newPage();
      await gotoSettled(p2, `${t.g.url}/services?ns=team-x`);
      await p2.getByTestId('token').fill(made.stdout.trim());
      await p2.getByRole('button', { name: 'Sign in' }).click();
      const forbidden = p2.getByTestId('forbidden');
      await forbidden.waitFor({ timeout: 10_000 });
      expect(await forbidden.textContent()).toMatch(/Not allowed/);
      expect(await forbidden.textContent()).toMatch(/vera/);
      expect(await forbidden.textContent()).toMatch(/role/);
      await p2.screenshot({ path: join(shots, 'forbidden.png'), fullPage: true });
    } finally {
      await other.close();
    }
  });

  it('signs out: the token leaves sessionStorage and the sign-in page shows', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('token').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('gantry.token')")).toBeNull();
  });
});
