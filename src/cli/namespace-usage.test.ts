import { describe, expect, it } from 'vitest';
import { applyDefaults, type Namespace, type Service } from '../core/index.js';
import { aService, stored } from '../core/test-builders.js';
import { formatNamespaceUsage } from './namespace-usage.js';

describe('formatNamespaceUsage', () => {
  it('shows the profile and every resource used against its quota', () => {
    const ns = stored<Namespace>({ apiVersion: 'gantry/v1', kind: 'Namespace', metadata: { name: 'team-a' }, spec: { profile: 'restricted', quota: { cpu: '2', instances: 10 } } });
    const web = stored<Service>(applyDefaults(aService('web', { namespace: 'team-a', replicas: 3, cpu: '250m', memory: '64Mi' })));
    expect(formatNamespaceUsage(ns, [web], [])).toBe(
      [
        'Admission profile:  restricted',
        'Quota:',
        '  RESOURCE       USED    QUOTA',
        '  cpu            750m    2',
        '  memory         192Mi   <none>',
        '  instances      3       10',
        '  services       1       <none>',
        '  exposedPorts   0       <none>',
        '',
      ].join('\n'),
    );
  });
});
