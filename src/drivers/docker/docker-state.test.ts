import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { LABELS } from '../driver.js';
import { PORTS_LABEL } from './docker-create-options.js';
import { dialableHost, ownedBy, toContainerState } from './docker-state.js';

function anInspect(state: Partial<Docker.ContainerInspectInfo['State']>, ports: Record<string, unknown> = {}): Docker.ContainerInspectInfo {
  return {
    Id: 'abc',
    Config: {
      Labels: {
        [LABELS.namespace]: 'default',
        [LABELS.instance]: 'web-1',
        [LABELS.instanceUid]: 'u1',
        [LABELS.container]: 'main',
        [PORTS_LABEL]: 'http=8080/tcp,admin=9000/tcp',
      },
    },
    State: { Running: false, ExitCode: 0, OOMKilled: false, Pid: 0, Error: '', StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z', ...state },
    NetworkSettings: { Ports: ports },
  } as unknown as Docker.ContainerInspectInfo;
}

describe('toContainerState', () => {
  it('maps a running container with host ports by name', () => {
    const s = toContainerState(
      anInspect({ Running: true, Pid: 42, StartedAt: '2025-01-01T00:00:00Z' }, {
        '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '32768' }],
        '9000/tcp': null,
        '7/tcp': [{ HostIp: '127.0.0.1', HostPort: '1' }],
      }),
      '127.0.0.1',
    );
    expect(s).toEqual({
      id: 'abc',
      instance: { namespace: 'default', name: 'web-1', uid: 'u1' },
      container: 'main',
      running: true,
      pid: 42,
      startedAt: '2025-01-01T00:00:00Z',
      hostPorts: { http: 32768 },
      hostIP: '127.0.0.1',
    });
  });

  it('keeps the previous run\'s end while a restarted container runs, and only then', () => {
    const running = toContainerState(anInspect({ Running: true, Pid: 7, StartedAt: '2025-01-01T00:00:05Z', FinishedAt: '2025-01-01T00:00:04Z' }), '127.0.0.1');
    expect(running).toMatchObject({ running: true, startedAt: '2025-01-01T00:00:05Z', lastFinishedAt: '2025-01-01T00:00:04Z' });
    expect(running.finishedAt).toBeUndefined();
    const exited = toContainerState(anInspect({ StartedAt: '2025-01-01T00:00:05Z', FinishedAt: '2025-01-01T00:00:06Z' }), '127.0.0.1');
    expect(exited).toMatchObject({ finishedAt: '2025-01-01T00:00:06Z' });
    expect(exited.lastFinishedAt).toBeUndefined();
  });

  it('reports exit code, OOM kill and error of an exited container, and no zero times', () => {
    const s = toContainerState(anInspect({ ExitCode: 137, OOMKilled: true, Error: 'boom', FinishedAt: '2025-01-01T00:00:01Z' }), '0.0.0.0');
    expect(s).toMatchObject({ running: false, exitCode: 137, oomKilled: true, error: 'boom', finishedAt: '2025-01-01T00:00:01Z', hostIP: '127.0.0.1' });
    expect(s.startedAt).toBeUndefined();
    expect(s.pid).toBeUndefined();
  });
});

describe('dialableHost and ownedBy', () => {
  it('dials loopback for a wildcard bind and the address itself otherwise', () => {
    expect(dialableHost('0.0.0.0')).toBe('127.0.0.1');
    expect(dialableHost('127.0.0.1')).toBe('127.0.0.1');
    expect(dialableHost('10.1.2.3')).toBe('10.1.2.3');
  });

  it('owns only containers with both this cluster and this node', () => {
    expect(ownedBy({ [LABELS.cluster]: 'c', [LABELS.node]: 'n' }, 'c', 'n')).toBe(true);
    expect(ownedBy({ [LABELS.cluster]: 'c', [LABELS.node]: 'other' }, 'c', 'n')).toBe(false);
    expect(ownedBy({ [LABELS.node]: 'n' }, 'c', 'n')).toBe(false);
    expect(ownedBy(undefined, 'c', 'n')).toBe(false);
  });
});
