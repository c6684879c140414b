// The Job a CronJob makes for one scheduled time: its name is a function of the time, so a second
// attempt at the same time is a 409, not a second run. Shared by the cron controller (scheduled
// runs) and the API (`gantry cronjob trigger`), which is why it sits below both.
import { API_VERSION, CRONJOB_LABEL, namespaceOf, stableHash, type CronJob, type Job, type NewObject } from '../core/index.js';

/** On a Job made by a CronJob: the scheduled time it ran for. */
export const SCHEDULED_TIME_ANNOTATION = 'gantry.io/scheduled-time';

/** `<cronjob>-<unix seconds>` (cut, with a hash, to stay within 63 characters). */
function cronJobRunName(cronJob: string, suffix: string): string {
  const tail = `-${suffix}`;
  if (cronJob.length + tail.length <= 63) return `${cronJob}${tail}`;
  const hash = stableHash(cronJob).slice(0, 6);
  return `${cronJob.slice(0, 63 - tail.length - hash.length - 1).replace(/-+$/, '')}-${hash}${tail}`;
}

/** The Job a CronJob makes for a scheduled time (or, with `manual`, for `gantry cronjob trigger`). */
export function jobFor(cj: CronJob, at: Date, manual = false): NewObject<Job> {
  const name = cronJobRunName(cj.metadata.name, manual ? `manual-${at.getTime()}` : String(Math.floor(at.getTime() / 1000)));
  return {
    apiVersion: API_VERSION,
    kind: 'Job',
    metadata: {
      name,
      namespace: namespaceOf(cj),
      labels: { [CRONJOB_LABEL]: cj.metadata.name },
      annotations: { [SCHEDULED_TIME_ANNOTATION]: at.toISOString(), ...(manual ? { 'gantry.io/manual': 'true' } : {}) },
      generation: 1,
    },
    spec: cj.spec.jobTemplate,
  };
}
