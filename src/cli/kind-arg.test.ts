import { describe, expect, it } from 'vitest';
import { objectRef, resolveKindArg } from './kind-arg.js';

describe('resolveKindArg', () => {
  it.each([
    ['services', 'Service'],
    ['svc', 'Service'],
    ['Service', 'Service'],
    ['inst', 'Instance'],
    ['no', 'Node'],
    ['ns', 'Namespace'],
    ['ev', 'Event'],
  ])('%s is %s', (word, kind) => {
    expect(resolveKindArg(word).kind).toBe(kind);
  });

  it('lists the known kinds and their aliases for an unknown word', () => {
    expect(() => resolveKindArg('pods')).toThrow(
      'unknown kind "pods": use one of services (svc), instances (inst), nodes (no), namespaces (ns), events (ev), serviceversions (version, versions), jobs, cronjobs (cj), configs (cfg), secrets',
    );
  });

  it('names objects as kind/name', () => {
    expect(objectRef('Service', 'web')).toBe('service/web');
  });
});
