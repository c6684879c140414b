import { describe, expect, it } from 'vitest';
import { aLaunch } from '../../drivers/test-helpers.js';
import { FakeDriver } from '../../drivers/fake/fake-driver.js';
import { RateLimitedDriver } from './rate-limited-driver.js';
import { TokenBucket } from './token-bucket.js';

/** A driver behind a bucket of `burst` tokens that never refills (the clock stands still). */
function aLimitedDriver(burst: number) {
  const bucket = new TokenBucket({ ratePerSecond: 1, burst, now: () => 0 });
  return { driver: new RateLimitedDriver(new FakeDriver({ nodeName: 'n1' }), bucket), bucket };
}

/** Whether `p` settles within a few turns of the event loop. */
async function settles(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

describe('RateLimitedDriver', () => {
  it('takes one token for a launch: the create, and the first start of what it created', async () => {
    const { driver, bucket } = aLimitedDriver(2);
    for (const name of ['web-1', 'web-2']) {
      const id = await driver.create(aLaunch({ instance: { namespace: 'default', name, uid: name } }));
      await driver.start(id);
    }
    // Two launches spent the two tokens: a third create waits.
    const third = driver.create(aLaunch({ instance: { namespace: 'default', name: 'web-3', uid: 'web-3' } }));
    expect(await settles(third)).toBe(false);
    expect(bucket.waiting).toBe(1);
    bucket.close();
    await expect(third).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('takes a token for a start of a container started before (a restart) and for a destroy', async () => {
    const { driver, bucket } = aLimitedDriver(2);
    const id = await driver.create(aLaunch());
    await driver.start(id);
    await driver.stop(id, 0);
    await driver.start(id); // the restart: the second token
    expect(await settles(driver.destroy(id))).toBe(false);
    expect(bucket.waiting).toBe(1);
    bucket.close();
  });
});
