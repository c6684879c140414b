// The Agent has no "registered" callback (the production agent needs none), so the simulator
// learns that a hollow node registered the way the server does: its first accepted node status
// write (the last step of NodeRegistrar.register). A Proxy rather than a delegating class, so
// methods added to GantryClient later pass through without this file changing.
import type { GantryClient } from '../client/types.js';

export function withRegistrationProbe(client: GantryClient, onRegistered: () => void): GantryClient {
  let seen = false;
  const updateNodeStatus: GantryClient['updateNodeStatus'] = async (name, status, revision) => {
    const node = await client.updateNodeStatus(name, status, revision);
    if (!seen) {
      seen = true;
      onRegistered();
    }
    return node;
  };
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'updateNodeStatus') return updateNodeStatus;
      const value: unknown = Reflect.get(target, prop, target);
      // Methods run against the real client, whose private fields a Proxy receiver would not have.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
