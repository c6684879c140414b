import { describe, expect, it } from 'vitest';
import { NO_TOKEN_MESSAGE, resolveCa, resolveConnection, resolveDataDir, resolveServer, resolveToken } from './global-options.js';
import { testContext } from './test-helpers.js';

const homeToken = { '/home/tester/.gantry/admin.token': 'from-file\n' };

describe('resolveToken', () => {
  it('takes the flag over the environment and the file', async () => {
    const ctx = testContext({ env: { GANTRY_TOKEN: 'from-env' }, files: homeToken });
    expect(await resolveToken(ctx, { token: 'from-flag' })).toBe('from-flag');
  });

  it('takes GANTRY_TOKEN over the file', async () => {
    const ctx = testContext({ env: { GANTRY_TOKEN: 'from-env' }, files: homeToken });
    expect(await resolveToken(ctx, {})).toBe('from-env');
  });

  it('reads --token-file (or GANTRY_TOKEN_FILE) over GANTRY_TOKEN, and names a file that is missing', async () => {
    const files = { ...homeToken, '/home/tester/alice.token': 'gtu_alice\n', '/etc/bob.token': 'gtu_bob' };
    const ctx = testContext({ env: { GANTRY_TOKEN: 'from-env', GANTRY_TOKEN_FILE: '/etc/bob.token' }, files });
    expect(await resolveToken(ctx, { tokenFile: '/home/tester/alice.token' })).toBe('gtu_alice');
    expect(await resolveToken(ctx, {})).toBe('gtu_bob');
    await expect(resolveToken(testContext(), { tokenFile: '/nope.token' })).rejects.toThrow(/cannot read the token file \/nope.token: ENOENT/);
  });

  it('reads admin.token from the data dir, trimmed', async () => {
    expect(await resolveToken(testContext({ files: homeToken }), {})).toBe('from-file');
  });

  it('follows --data-dir, then GANTRY_HOME, to the token file', async () => {
    const files = { '/srv/g/admin.token': 'flag-dir', '/env/g/admin.token': 'env-dir', '/env/g/join.token': 'join' };
    const ctx = testContext({ env: { GANTRY_HOME: '/env/g' }, files });
    expect(await resolveToken(ctx, { dataDir: '/srv/g' })).toBe('flag-dir');
    expect(await resolveToken(ctx, {})).toBe('env-dir');
    expect(await resolveToken(ctx, {}, 'join.token')).toBe('join');
  });

  it('says exactly what to do when there is no token anywhere', async () => {
    await expect(resolveToken(testContext(), {})).rejects.toThrow(NO_TOKEN_MESSAGE);
    expect(NO_TOKEN_MESSAGE).toBe('no token: start Gantry with `npm run up`, or set GANTRY_TOKEN or pass --token-file');
  });
});

describe('resolveServer and resolveDataDir', () => {
  it('prefer the flag, then the environment, then the default', () => {
    const env = { GANTRY_ADDR: 'http://10.0.0.1:7070/', GANTRY_HOME: '~/g' };
    expect(resolveServer(testContext({ env }), { server: 'http://h:1' })).toBe('http://h:1');
    expect(resolveServer(testContext({ env }), {})).toBe('http://10.0.0.1:7070');
    expect(resolveServer(testContext(), {})).toBe('https://127.0.0.1:7070');
    expect(resolveDataDir(testContext({ env }), {})).toBe('/home/tester/g');
    expect(resolveDataDir(testContext(), {})).toBe('/home/tester/.gantry');
  });
});

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('resolveCa', () => {
  it('takes --ca, then GANTRY_CA, then <data dir>/tls/ca.crt', async () => {
    const files = { '/flag/ca.pem': `flag${PEM}`, '/env/ca.pem': `env${PEM}`, '/home/tester/.gantry/tls/ca.crt': `dir${PEM}`, '/srv/g/tls/ca.crt': `srv${PEM}` };
    const ctx = testContext({ env: { GANTRY_CA: '/env/ca.pem' }, files });
    expect(await resolveCa(ctx, { ca: '/flag/ca.pem' })).toBe(`flag${PEM}`);
    expect(await resolveCa(ctx, {})).toBe(`env${PEM}`);
    expect(await resolveCa(testContext({ files }), {})).toBe(`dir${PEM}`);
    expect(await resolveCa(testContext({ files }), { dataDir: '/srv/g' })).toBe(`srv${PEM}`);
  });

  it('is none when the data dir has no CA, and an error when a named file is missing or no certificate', async () => {
    expect(await resolveCa(testContext(), {})).toBeUndefined();
    await expect(resolveCa(testContext(), { ca: '/nope.pem' })).rejects.toThrow('cannot read the CA certificate /nope.pem (--ca)');
    await expect(resolveCa(testContext({ env: { GANTRY_CA: '/nope.pem' } }), {})).rejects.toThrow('(GANTRY_CA)');
    await expect(resolveCa(testContext({ files: { '/x.pem': 'hello' } }), { ca: '/x.pem' })).rejects.toThrow('/x.pem is not a PEM certificate');
  });

  it('goes into the connection with the server and the token', async () => {
    const ctx = testContext({ files: { ...homeToken, '/home/tester/.gantry/tls/ca.crt': PEM } });
    expect(await resolveConnection(ctx, {})).toEqual({ server: 'https://127.0.0.1:7070', token: 'from-file', ca: PEM });
    expect(await resolveConnection(testContext({ files: homeToken }), {})).toEqual({ server: 'https://127.0.0.1:7070', token: 'from-file' });
  });
});
