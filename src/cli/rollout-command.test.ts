import { describe, expect, it } from 'vitest';
import type { RolloutView } from '../client/types.js';
import { historyTable, serviceTarget, statusLine } from './rollout-command.js';

const view: RolloutView = {
  service: 'web',
  namespace: 'default',
  replicas: 4,
  generation: 2,
  paused: false,
  status: {
    replicas: 5,
    readyReplicas: 4,
    conditions: [],
    version: 2,
    updatedReplicas: 2,
    availableReplicas: 4,
    rollout: { phase: 'Progressing', version: 2, message: 'rolling out v2: 1 of 4 new instances available, 3 old left' },
  },
  history: [
    { version: 1, cause: 'created', createdAt: '2025-01-01T00:00:00Z', images: ['app:1'], current: false },
    { version: 2, cause: 'apply', createdAt: '2025-01-01T00:04:00Z', images: ['app:2'], current: true },
  ],
};

describe('rollout command', () => {
  it('takes "service NAME", "svc/NAME" and "service/NAME", and refuses other kinds', () => {
    expect(serviceTarget('service', 'web')).toBe('web');
    expect(serviceTarget('svc/web', undefined)).toBe('web');
    expect(serviceTarget('service/web', undefined)).toBe('web');
    expect(() => serviceTarget('node', 'n1')).toThrow(/rollouts are for services, not nodes/);
    expect(() => serviceTarget('svc', undefined)).toThrow(/name the service/);
    // The kind left out: say how, instead of listing kinds rollout does not take.
    expect(() => serviceTarget('hello', undefined, 'status')).toThrow('rollouts are for services: gantry rollout status service hello (or svc/hello)');
  });

  it('prints one status line with the phase, the message and the counts', () => {
    expect(statusLine(view)).toBe(
      'service/web: v2 Progressing: rolling out v2: 1 of 4 new instances available, 3 old left (2 up to date, 4 available, 4/4 ready)',
    );
  });

  it('prints the history as a table, the current version starred', () => {
    expect(historyTable(view, new Date('2025-01-01T00:05:00Z'))).toBe(
      'VERSION   IMAGES   CAUSE     AGE\nv1        app:1    created   5m\n*v2       app:2    apply     60s\n',
    );
  });
});
