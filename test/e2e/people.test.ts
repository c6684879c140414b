// People's tokens against a real `gantry server` and the built CLI: a view token reads a Secret
// only redacted and cannot delete it, an edit token in namespace A gets 403 in namespace B,
// whoami and can-i, a revoked token is refused at once, and the audit log has a line for each.
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/core/index.js';
import { GantryProcesses } from '../support/gantry-process.js';

describe('people: tokens, roles per namespace, audit', () => {
  let g: GantryProcesses;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    g = await GantryProcesses.create();
    await g.server();
    const setup = await g.apply(
      [
        'apiVersion: gantry/v1\nkind: Namespace\nmetadata: { name: team-a }\nspec: {}',
        'apiVersion: gantry/v1\nkind: Namespace\nmetadata: { name: team-b }\nspec: {}',
        'apiVersion: gantry/v1\nkind: Secret\nmetadata: { name: db, namespace: team-a }\nspec:\n  data: { password: hunter2-very-secret }',
      ].join('\n---\n'),
    );
    expect(setup.code, setup.stderr).toBe(0);
    for (const [user, role] of [['vera', 'view'], ['eddie', 'edit']] as const) {
      const r = await g.cli(['token', 'create', '--user', user, '--role', role, '--namespace', 'team-a', '--ttl', '1h']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^gtu_[a-z0-9]{10}_[0-9a-f]{64}\n$/);
      files[user] = join(g.dataDir, `${user}.token`);
      writeFileSync(files[user], r.stdout);
      chmodSync(files[user], 0o600);
    }
  }, 120_000);

  afterAll(async () => {
    await g?.close();
  }, 60_000);

  const as = (user: string, args: string[]) => g.cli(args, { env: { GANTRY_TOKEN_FILE: files[user] ?? '' } });

  it('a view token reads a Secret only redacted and may not delete it', async () => {
    const r = await as('vera', ['get', 'secret', 'db', '-n', 'team-a', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('hunter2');
    expect((JSON.parse(r.stdout) as { spec: { data: Record<string, string> } }).spec.data.password).toBe('<redacted 19 bytes>');
    const del = await as('vera', ['delete', 'secret', 'db', '-n', 'team-a']);
    expect(del.code).toBe(1);
    expect(del.stderr).toContain('user vera (view in namespace team-a) may not DELETE /api/v1/namespaces/team-a/secrets/db: role edit is needed in namespace team-a');
  });

  it('an edit token in team-a writes there and gets 403 in team-b, naming the role and the namespace', async () => {
    const cfg = (ns: string) => `apiVersion: gantry/v1\nkind: Config\nmetadata: { name: app, namespace: ${ns} }\nspec:\n  data: { a.conf: "x=1" }\n`;
    for (const ns of ['team-a', 'team-b']) writeFileSync(join(g.dataDir, `cfg-${ns}.yaml`), cfg(ns));
    const ok = await as('eddie', ['apply', '-f', join(g.dataDir, 'cfg-team-a.yaml')]);
    expect(ok.code, ok.stderr).toBe(0);
    const refused = await as('eddie', ['apply', '-f', join(g.dataDir, 'cfg-team-b.yaml')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('role edit is needed in namespace team-b');
  });

  it('whoami and can-i answer for the token, and a revoked token is refused at once', async () => {
    const me = await as('eddie', ['auth', 'whoami']);
    expect(me.code, me.stderr).toBe(0);
    expect(me.stdout).toMatch(/^user eddie \(edit in namespace team-a\), token [a-z0-9]{10}, expires /);
    expect((await as('eddie', ['auth', 'can-i', 'apply', 'service', '-n', 'team-a'])).stdout).toBe('yes\n');
    const no = await as('eddie', ['auth', 'can-i', 'apply', 'service', '-n', 'team-b']);
    expect(no.code).toBe(1);
    expect(no.stdout).toMatch(/^no: .*role edit is needed in namespace team-b\n$/);
    expect((await as('vera', ['auth', 'can-i', 'delete', 'secret', '-n', 'team-a'])).code).toBe(1);

    const id = /token ([a-z0-9]{10})/.exec(me.stdout)?.[1] ?? '';
    const list = await g.cli(['token', 'list']);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+user\\s+eddie\\s+edit\\s+team-a\\s+\\S+\\s+active`));
    expect(list.stdout).not.toMatch(/[0-9a-f]{64}/);
    expect((await g.cli(['token', 'revoke', id])).code).toBe(0);
    const after = await as('eddie', ['auth', 'whoami']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain(`token ${id} was revoked at`);
  });

  it('the audit log has a line for each of those calls', async () => {
    const r = await g.cli(['audit', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);
    const has = (user: string, verb: string, status: number, ns?: string) =>
      lines.some((e) => e.user === user && e.verb === verb && e.status === status && (ns === undefined || e.namespace === ns));
    expect(has('vera', 'get', 200, 'team-a'), 'the Secret read').toBe(true);
    expect(has('vera', 'delete', 403, 'team-a'), 'the refused delete').toBe(true);
    expect(has('eddie', 'apply', 201, 'team-a'), 'the write in team-a').toBe(true);
    expect(has('eddie', 'apply', 403, 'team-b'), 'the refused write in team-b').toBe(true);
    expect(has('admin', 'revoke', 200), 'the revoke').toBe(true);
    expect(lines.some((e) => e.user === '-' && e.status === 401), 'the revoked token refused').toBe(true);
    const table = await g.cli(['audit', '--user', 'eddie', '--since', '1h']);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+USER\s+VERB\s+OBJECT\s+STATUS\s+FROM$/);
    expect(table.stdout).toMatch(/eddie\s+apply\s+config\/team-b\/app\s+403\s+127\.0\.0\.1/);
  });

  it('keeps Secret data sealed in the state file, and rotates its key (administrators only)', async () => {
    const onDisk = (): string =>
      readdirSync(g.dataDir)
        .filter((f) => f.startsWith('state.db'))
        .map((f) => readFileSync(join(g.dataDir, f)).toString('latin1'))
        .join('');
    expect(onDisk()).not.toContain('hunter2-very-secret');
    expect(onDisk()).toContain('"sealedData":"gtenc1:');
    expect(statSync(join(g.dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    const before = readFileSync(join(g.dataDir, 'secret.key'), 'utf8');
    const refused = await as('vera', ['secret-key', 'rotate']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/user vera .* may not POST \/api\/v1\/secret-key\/rotate: role admin is needed/);
    const r = await g.cli(['secret-key', 'rotate']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Secrets are sealed with key (k[0-9a-f]{8}) \(1 objects sealed again\); removed key k[0-9a-f]{8} from /);
    const keyId = /with key (k[0-9a-f]{8})/.exec(r.stdout)?.[1] ?? '';
    expect(readFileSync(join(g.dataDir, 'secret.key'), 'utf8')).not.toBe(before);
    expect(onDisk()).toContain(`"sealedData":"gtenc1:${keyId}:`);
    expect(onDisk()).not.toContain('hunter2-very-secret');
    // The server still opens it (answers redact values for everyone, but count the opened bytes).
    const got = await g.cli(['get', 'secret', 'db', '-n', 'team-a', '-o', 'json']);
    expect((JSON.parse(got.stdout) as { spec: { data: Record<string, string> } }).spec.data.password).toBe('<redacted 19 bytes>');
  });
});
