// Which id the log proxy asks the agent for: init containers, warm runs.
import { describe, expect, it } from 'vitest';
import type { Instance } from '../core/index.js';
import { aNode, stored } from '../core/test-builders.js';
import { agentLogUrl, containerIdFor } from './log-proxy.js';

function inst(over: Partial<Instance['spec']> = {}, status: Partial<NonNullable<Instance['status']>> = {}): Instance {
  return {
    apiVersion: 'gantry/v1',
    kind: 'Instance',
    metadata: { name: 'job-1', namespace: 'default', uid: 'u-1', revision: 1, createdAt: '' },
    spec: { service: 'job', containers: [{ name: 'main', image: 'x' }], restartPolicy: 'Never', resources: { cpu: 1, memory: 1 }, templateHash: 'h', ...over },
    status: { phase: 'Running', ready: false, containers: [{ name: 'main', containerId: 'c-main', state: 'running', restartCount: 0, hostPorts: {} }], ...status },
  };
}

describe('containerIdFor', () => {
  it('finds init containers by name in status.initContainers', () => {
    const i = inst({ initContainers: [{ name: 'migrate', image: 'x' }] }, { initContainers: [{ name: 'migrate', containerId: 'c-init', state: 'exited', exitCode: 3, restartCount: 1, hostPorts: {} }] });
    expect(containerIdFor(i, 'migrate')).toEqual({ container: 'migrate', containerId: 'c-init' });
    expect(containerIdFor(i, undefined).containerId).toBe('c-main');
    expect(() => containerIdFor(i, 'nope')).toThrow(/its containers are main; its init containers are migrate/);
  });

  it('asks for the run (run.<uid>) of a warm instance, not the shared container', () => {
    expect(containerIdFor(inst({ runIn: 'warm' }), undefined)).toEqual({ container: 'main', containerId: 'run.u-1' });
  });
});

describe('agentLogUrl', () => {
  const node = (agentUrl: string | undefined) =>
    stored(aNode('n1', { spec: { address: '10.0.0.7', agentPort: 7071 }, ...(agentUrl ? { status: { agentUrl } } : {}) }));

  it('takes host and port from the spec, and from the reported URL only whether it is https', () => {
    expect(agentLogUrl(node('https://169.254.169.254:80'), 'abc')?.href).toBe('https://10.0.0.7:7071/nodes/n1/v1/containers/abc/log');
    expect(agentLogUrl(node('http://10.0.0.7:7071'), 'abc')?.href).toBe('http://10.0.0.7:7071/nodes/n1/v1/containers/abc/log');
    expect(agentLogUrl(node(undefined), 'abc')?.protocol).toBe('http:');
  });
});
