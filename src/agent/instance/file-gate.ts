// Fetches an instance's config files (content resolved by the server, Secrets included) once,
// before its first container is created, and keeps them in memory for every container of the
// instance, init containers too. While a referenced Config or Secret is missing the instance
// stays Pending with reason ConfigMissing and the fetch is retried with back-off. Contents are
// never logged and never put in a status or event message: only paths and the server's messages.
import type { Logger } from 'pino';
import type { GantryClient } from '../../client/types.js';
import { describeError, isAppError, namespaceOf, type Instance } from '../../core/index.js';
import type { FileToCopy } from '../../drivers/driver.js';
import { RestartBackoff, formatDelay, type BackoffOptions } from './restart-backoff.js';

export interface FileProblem {
  reason: 'ConfigMissing' | 'ConfigUnavailable';
  message: string;
}

/** Where a gate gets contents from: the agent's client, asking as its node. */
export type FileSource = (instance: Instance) => Promise<{ path: string; mode: string; content: string }[]>;

export function clientFileSource(client: GantryClient, nodeName: string): FileSource {
  return (inst) => client.instanceFiles(namespaceOf(inst), inst.metadata.name, nodeName);
}

function parseMode(mode: string, path: string): number {
  const n = Number.parseInt(mode, 8);
  if (!/^0?[0-7]{3}$/.test(mode) || Number.isNaN(n)) throw new RangeError(`config file ${path} has mode "${mode}"; it must be octal like 0644`);
  return n;
}

export class FileGate {
  private files: FileToCopy[] | undefined;
  private readonly backoff: RestartBackoff;
  private retryAtMs: number | undefined;
  private problemNow: FileProblem | undefined;

  constructor(
    private readonly source: FileSource | undefined,
    backoff: BackoffOptions,
    private readonly log: Logger,
    private readonly onFailure?: (problem: FileProblem) => void,
  ) {
    this.backoff = new RestartBackoff(backoff);
  }

  get problem(): FileProblem | undefined {
    return this.problemNow;
  }

  get retryAt(): number | undefined {
    return this.retryAtMs;
  }

  /** The files, once fetched; [] for an instance without config files. */
  get contents(): readonly FileToCopy[] {
    return this.files ?? [];
  }

  /** True once the files are here (at once without configFiles); false while they cannot be had. */
  async ensure(instance: Instance, now: number): Promise<boolean> {
    if (this.files) return true;
    if ((instance.spec.configFiles ?? []).length === 0) {
      this.files = [];
      return true;
    }
    if (this.retryAtMs !== undefined && now < this.retryAtMs) return false;
    try {
      if (!this.source) throw new Error('this agent has no way to fetch config files (no client given)');
      const got = await this.source(instance);
      this.files = got.map((f) => ({ path: f.path, mode: parseMode(f.mode, f.path), content: f.content }));
      this.problemNow = undefined;
      this.retryAtMs = undefined;
      this.backoff.reset();
      this.log.info({ files: this.files.map((f) => f.path) }, 'config files fetched');
      return true;
    } catch (e) {
      const delay = this.backoff.next();
      this.retryAtMs = now + delay;
      // 409 from the server: a Config, Secret or key is missing (named in the details).
      const reason = isAppError(e, 'CONFLICT') || isAppError(e, 'NOT_FOUND') ? 'ConfigMissing' : 'ConfigUnavailable';
      const detail = describeError(e).replace(/\n\s*/g, '; ');
      this.problemNow = { reason, message: `${detail} (retrying in ${formatDelay(delay)})` };
      this.log.warn({ retryInMs: delay, err: detail }, 'config files not available');
      this.onFailure?.(this.problemNow);
      return false;
    }
  }
}
