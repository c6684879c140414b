// Builders for driver tests: a ContainerLaunch that reads like the behaviour under test.
import type { ContainerSpec } from '../core/index.js';
import type { ContainerLaunch } from './driver.js';

type LaunchOverrides = Omit<Partial<ContainerLaunch>, 'spec'> & { spec?: Partial<ContainerSpec> };

export function aLaunch(overrides: LaunchOverrides = {}): ContainerLaunch {
  const { spec, ...rest } = overrides;
  return {
    instance: { namespace: 'default', name: 'web-ab12c', uid: 'uid-1' },
    index: 0,
    publish: [],
    env: {},
    hostname: 'web-ab12c',
    ...rest,
    spec: { name: 'main', image: 'busybox:1', ...spec },
  };
}

export function aSidecar(networkOf: string, overrides: LaunchOverrides = {}): ContainerLaunch {
  return aLaunch({ index: 1, networkOf, ...overrides, spec: { name: 'sidecar', ...overrides.spec } });
}
