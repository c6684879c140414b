// Removing one container the way every part of the agent must: stop with grace, then force-remove
// whatever happened to the stop, so a stop that fails (a daemon timeout) never leaves it behind.
import type { Logger } from 'pino';
import { describeError } from '../../core/index.js';
import type { Driver } from '../../drivers/driver.js';

/** True once the container is gone; false (logged) when even the force-remove failed. */
export async function removeContainer(driver: Driver, id: string, graceSeconds: number, log: Logger, signal?: string): Promise<boolean> {
  try {
    await driver.stop(id, graceSeconds, signal);
  } catch (e) {
    log.warn({ id, err: describeError(e) }, 'could not stop container; removing it by force');
  }
  try {
    await driver.destroy(id);
    return true;
  } catch (e) {
    // The supervisor's orphan sweep retries containers no runner owns.
    log.warn({ id, err: describeError(e) }, 'could not remove container');
    return false;
  }
}
