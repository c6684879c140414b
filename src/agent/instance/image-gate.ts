// Makes sure the images of containers about to be created are present (the driver pulls only
// when absent), remembering what is present and backing off while one cannot be had.
import type { Logger } from 'pino';
import { describeError, isAppError } from '../../core/index.js';
import type { Driver } from '../../drivers/driver.js';
import { RestartBackoff, formatDelay, type BackoffOptions } from './restart-backoff.js';

export interface ImageProblem {
  image: string;
  reason: 'ImageNotFound' | 'ImagePullFailed';
  /** The driver's message (naming the image) and when the next attempt comes. */
  message: string;
}

export class ImageGate {
  private readonly present = new Set<string>();
  private readonly backoff: RestartBackoff;
  private retryAtMs: number | undefined;
  private problemNow: ImageProblem | undefined;

  constructor(
    private readonly driver: Driver,
    backoff: BackoffOptions,
    private readonly log: Logger,
    /** Each failed attempt, with the driver's own message (the same every time, so events aggregate). */
    private readonly onFailure?: (problem: ImageProblem, error: string) => void,
  ) {
    this.backoff = new RestartBackoff(backoff);
  }

  /** Set while an image is missing. */
  get problem(): ImageProblem | undefined {
    return this.problemNow;
  }

  /** When the next attempt is due, while an image is missing. */
  get retryAt(): number | undefined {
    return this.retryAtMs;
  }

  /** True when every image is present; false while one is missing (tried again after back-off). */
  async ensure(images: readonly string[], now: number): Promise<boolean> {
    if (this.retryAtMs !== undefined && now < this.retryAtMs) return false;
    for (const image of images) {
      if (this.present.has(image)) continue;
      try {
        await this.driver.ensureImage(image);
        this.present.add(image);
      } catch (e) {
        const delay = this.backoff.next();
        this.retryAtMs = now + delay;
        const reason = isAppError(e, 'NOT_FOUND') ? 'ImageNotFound' : 'ImagePullFailed';
        this.problemNow = { image, reason, message: `${describeError(e)} (retrying in ${formatDelay(delay)})` };
        this.log.warn({ image, retryInMs: delay, err: describeError(e) }, 'image not available');
        this.onFailure?.(this.problemNow, describeError(e));
        return false;
      }
    }
    this.problemNow = undefined;
    this.retryAtMs = undefined;
    this.backoff.reset();
    return true;
  }
}
