import { describe, expect, it } from 'vitest';
import type { AnyObject } from '../core/index.js';
import { formatDescribe } from './describe-format.js';
import { eventsFor } from './events-about.js';
import { aNode, anInstance, aService, stored } from '../core/test-builders.js';
import { ago, anEvent, NOW } from './test-helpers.js';

describe('formatDescribe', () => {
  const web = stored(
    aService('web', { replicas: 3, containers: [{ name: 'web', image: 'gantry-examples/hello:1' }], status: { replicas: 3, readyReplicas: 3, conditions: [] } }),
    { createdAt: ago(300) },
  );
  const events = [
    anEvent('e1', { involved: { kind: 'Service', name: 'web', namespace: 'default' }, reason: 'ScaledUp', message: 'created 3 instances', ageSeconds: 20 }),
    anEvent('e2', { involved: { kind: 'Service', name: 'api', namespace: 'default' }, reason: 'ScaledUp' }),
    anEvent('e3', { involved: { kind: 'Service', name: 'web', namespace: 'other' }, reason: 'ScaledUp' }),
    anEvent('e4', { involved: { kind: 'Instance', name: 'web', namespace: 'default' }, reason: 'Started' }),
  ];

  it('keeps only the events of this very object', () => {
    expect(eventsFor(web, events).map((e) => e.metadata.name)).toEqual(['e1']);
  });

  it('keeps none of a deleted predecessor’s events: another uid, or none and older than the object', () => {
    const mine = { ...web, metadata: { ...web.metadata, uid: 'uid-new' } };
    const ev = (name: string, uid: string | undefined, ageSeconds: number) => anEvent(name, { involved: { kind: 'Service', name: 'web', namespace: 'default', ...(uid ? { uid } : {}) }, ageSeconds });
    // web was created 300 s ago.
    const list = [ev('old-uid', 'uid-old', 20), ev('new-uid', 'uid-new', 20), ev('no-uid-before', undefined, 400), ev('no-uid-after', undefined, 100)];
    expect(eventsFor(mine, list).map((e) => e.metadata.name).sort()).toEqual(['new-uid', 'no-uid-after']);
  });

  it('shows the last 10 events and says where the earlier ones are', () => {
    const many = Array.from({ length: 14 }, (_, k) => anEvent(`m${k}`, { involved: { kind: 'Service', name: 'web', namespace: 'default' }, reason: `Step${k}`, ageSeconds: 200 - k }));
    const text = formatDescribe(web, many, NOW);
    expect(text).toContain('Events:\n  (4 earlier: gantry events --for service/web)\n');
    expect(text).not.toMatch(/Step3\b/);
    expect(text).toMatch(/Step4\b[\s\S]*Step13\b/);
  });

  it('prints metadata, spec and status, then the events', () => {
    const text = formatDescribe(web, events, NOW);
    expect(text).toMatch(/^Name: +web\nNamespace: +default\nKind: +Service\n/);
    expect(text).toContain('Created:     2025-01-01T11:55:00.000Z (5m ago)');
    expect(text).toContain('Spec:\n  replicas: 3\n  containers:\n    - name: web\n');
    expect(text).toContain('Status:\n  replicas: 3\n  readyReplicas: 3\n');
    expect(text).toMatch(/Events:\n {2}TYPE +REASON +AGE +FROM +MESSAGE\n {2}Normal +ScaledUp +20s +scheduler +created 3 instances\n$/);
  });

  it('sums up a service\'s version and rollout above its status', () => {
    const rolling = { ...web, status: { ...web.status!, version: 2, updatedReplicas: 1, availableReplicas: 3, rollout: { phase: 'CanaryPaused' as const, version: 2, message: 'canary of v2: 1 new instance available; waiting for promote' } } };
    const text = formatDescribe(rolling, [], NOW);
    expect(text).toMatch(/\nVersion: +v2 \(1 up to date, 3 available, 3\/3 ready\)\nRollout: +CanaryPaused: canary of v2: 1 new instance available; waiting for promote\nSpec:/);
  });

  it('says <none> when nothing happened', () => {
    expect(formatDescribe(web, [], NOW)).toMatch(/Events: {2}<none>\n$/);
  });

  it('shows an instance its own events (repeats counted), and a node the events recorded about it', () => {
    const inst = anInstance('web-abcde');
    const all = [
      anEvent('i1', { involved: { kind: 'Instance', name: 'web-abcde', namespace: 'default' }, reason: 'Started', message: 'started container web (id 1a2b3c4d5e6f)', count: 2, ageSeconds: 30 }),
      anEvent('i2', { involved: { kind: 'Instance', name: 'web-abcde', namespace: 'default' }, type: 'Warning', reason: 'BackOff', message: 'container web exited with code 137; restarting in 1s (restart 1)', ageSeconds: 31 }),
      anEvent('s1', { involved: { kind: 'Service', name: 'web', namespace: 'default' }, reason: 'ScalingUp', message: 'created 1 instance (web-abcde)' }),
      anEvent('n1', { involved: { kind: 'Node', name: 'node-1' }, reason: 'Registered', message: 'registered node node-1' }),
    ];
    const text = formatDescribe(inst, all, NOW);
    expect(text).toMatch(/Warning +BackOff +31s +scheduler +container web exited with code 137; restarting in 1s \(restart 1\)\n/);
    expect(text).toMatch(/Normal +Started +30s +scheduler +started container web \(id 1a2b3c4d5e6f\) \(x2\)\n$/);
    expect(text).not.toContain('ScalingUp');
    expect(eventsFor(stored(aNode('node-1')), all).map((e) => e.metadata.name)).toEqual(['n1']);
  });
});

describe('describe instance with init containers', () => {
  it('lists them in order with their state, failures and message', () => {
    const inst = {
      apiVersion: 'gantry/v1',
      kind: 'Instance',
      metadata: { name: 'db-abc12', namespace: 'default', uid: 'u', revision: 3, createdAt: '2024-01-01T00:00:00Z' },
      spec: { service: 'db', containers: [{ name: 'main', image: 'x' }], initContainers: [{ name: 'migrate', image: 'x' }, { name: 'seed', image: 'x' }], restartPolicy: 'Always', resources: { cpu: 1, memory: 1 }, templateHash: 'h' },
      status: {
        phase: 'Pending',
        ready: false,
        reason: 'InitFailed',
        containers: [],
        initContainers: [{ name: 'migrate', containerId: 'c1', state: 'exited', exitCode: 4, restartCount: 2, hostPorts: {}, message: 'init container "migrate" exited with code 4; retrying in 4s' }],
      },
    } as const;
    const text = formatDescribe(inst as unknown as AnyObject, [], new Date('2024-01-01T00:01:00Z'));
    expect(text).toMatch(/Init Containers:\n\s+NAME\s+STATE\s+FAILURES\s+MESSAGE\n\s+migrate\s+exited \(4\)\s+2\s+init container "migrate" exited with code 4/);
    expect(text).toMatch(/seed\s+not run yet/);
    expect(text).toContain('gantry logs db-abc12 -c NAME');
  });

  it('shows resources in one notation: cpu as cores or millicores, memory in Mi/Gi (instance totals, containers, nodes)', () => {
    const inst = stored(anInstance('web-abcde', { node: 'n1', cpu: 100, memory: 128 * 2 ** 20, containers: [{ name: 'web', image: 'x', resources: { cpu: 0.1, memory: '128Mi' } }, { name: 'side', image: 'y', resources: { cpu: '1500m', memory: '1Gi' } }] }));
    const text = formatDescribe(inst, [], NOW);
    expect(text).not.toMatch(/134217728|cpu: 100\b|cpu: 0\.1/);
    expect(text.match(/cpu: 100m/g)).toHaveLength(2); // the instance's total and the container's
    expect(text.match(/memory: 128Mi/g)).toHaveLength(2);
    expect(text).toContain('cpu: 1500m');
    expect(text).toContain('memory: 1Gi');
    const node = stored(aNode('n1', { cpu: 32, memory: 128 * 2 ** 30, spec: { overcommit: { cpu: 2 }, reserved: { cpu: 0.5, memory: '512Mi' } } }));
    const nodeText = formatDescribe(node, [], NOW);
    expect(nodeText).toMatch(/capacity:\n\s+cpu: 32\n\s+memory: 128Gi/);
    expect(nodeText).toMatch(/reserved:\n\s+cpu: 500m\n\s+memory: 512Mi/);
    expect(nodeText).toMatch(/overcommit:\n\s+cpu: 2\n/);
  });
});
