import { describe, expect, it } from 'vitest';
import { eventsFor, formatDescribe } from './describe-format.js';
import { anEvent, aService, NOW } from './test-helpers.js';

describe('formatDescribe', () => {
  const web = aService('web');
  const events = [
    anEvent('e1', { involved: { kind: 'Service', name: 'web', namespace: 'default' }, reason: 'ScaledUp', message: 'created 3 instances', ageSeconds: 20 }),
    anEvent('e2', { involved: { kind: 'Service', name: 'api', namespace: 'default' }, reason: 'ScaledUp' }),
    anEvent('e3', { involved: { kind: 'Service', name: 'web', namespace: 'other' }, reason: 'ScaledUp' }),
    anEvent('e4', { involved: { kind: 'Instance', name: 'web', namespace: 'default' }, reason: 'Started' }),
  ];

  it('keeps only the events of this very object', () => {
    expect(eventsFor(web, events).map((e) => e.metadata.name)).toEqual(['e1']);
  });

  it('prints metadata, spec and status, then the events', () => {
    const text = formatDescribe(web, events, NOW);
    expect(text).toMatch(/^Name: +web\nNamespace: +default\nKind: +Service\n/);
    expect(text).toContain('Created:     2025-01-01T11:55:00.000Z (5m ago)');
    expect(text).toContain('Spec:\n  replicas: 3\n  containers:\n    - name: web\n');
    expect(text).toContain('Status:\n  replicas: 3\n  readyReplicas: 3\n');
    expect(text).toMatch(/Events:\n {2}TYPE +REASON +AGE +FROM +MESSAGE\n {2}Normal +ScaledUp +20s +scheduler +created 3 instances\n$/);
  });

  it('says <none> when nothing happened', () => {
    expect(formatDescribe(web, [], NOW)).toMatch(/Events: {2}<none>\n$/);
  });
});
