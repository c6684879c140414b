import { describe, expect, it } from 'vitest';
import { resolveToken } from './global-options.js';
import { agentJoinHint } from './server-command.js';
import { testContext } from './test-helpers.js';

describe('agentJoinHint', () => {
  it('passes the agent token through GANTRY_TOKEN, never in argv where ps and /proc show it', () => {
    const hint = agentJoinHint('/srv/gantry', 'https://127.0.0.1:7070', false);
    expect(hint).toBe('GANTRY_TOKEN=$(cat /srv/gantry/agent.token) gantry agent --server https://127.0.0.1:7070 --ca /srv/gantry/tls/ca.crt');
    expect(hint).not.toContain('--token');
  });

  it('tells agents on other hosts to listen and publish beyond loopback and say their address', () => {
    expect(agentJoinHint('/srv/gantry', 'https://<this-host-address>:7070', true)).toBe(
      'GANTRY_TOKEN=$(cat /srv/gantry/agent.token) gantry agent --server https://<this-host-address>:7070 --ca /srv/gantry/tls/ca.crt --address <agent-host-address> --agent-listen 0.0.0.0:7071 --publish-address 0.0.0.0',
    );
  });

  it('names no CA for a server without TLS', () => {
    expect(agentJoinHint('/srv/gantry', 'http://127.0.0.1:7070', false, false)).toBe('GANTRY_TOKEN=$(cat /srv/gantry/agent.token) gantry agent --server http://127.0.0.1:7070');
  });

  it('matches how `gantry agent` finds its token: GANTRY_TOKEN before the agent.token file', async () => {
    const ctx = testContext({ env: { GANTRY_TOKEN: 'from-env' }, files: { '/home/tester/.gantry/agent.token': 'stale' } });
    expect(await resolveToken(ctx, {}, 'agent.token')).toBe('from-env');
  });
});
