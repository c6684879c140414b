// Fresh instance names for a batch of creates. Names are `<service>-<5 random chars>`, 36^5
// (about 60 million) of them, so a service with tens of thousands of replicas draws a duplicate
// now and then; one duplicate used to fail the whole create txn, every retry. Each name is drawn
// against the names already in use and those drawn earlier in the batch.
import { InternalError } from '../../core/index.js';
import { instanceName } from './instance-template.js';

/** Draws per name before giving up: only a broken random source gets anywhere near this. */
const MAX_DRAWS = 100;

/**
 * `count` distinct names not in `taken` and for which `exists` says no; adds them to `taken`.
 * `exists` catches names used outside what the caller knows (another service with the same
 * 57-character prefix, or an instance the caller has not seen yet).
 */
export async function drawInstanceNames(
  service: string,
  count: number,
  taken: Set<string>,
  random: () => number,
  exists: (name: string) => Promise<boolean>,
): Promise<string[]> {
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    let draws = 0;
    for (;;) {
      if (++draws > MAX_DRAWS) {
        throw new InternalError(`no free instance name for service ${service} after ${MAX_DRAWS} draws; the random source repeats itself`);
      }
      const name = instanceName(service, random);
      if (taken.has(name) || (await exists(name))) continue;
      taken.add(name);
      names.push(name);
      break;
    }
  }
  return names;
}
