// `gantry get jobs|cronjobs` columns and the extra text of `describe cronjob`, as pure functions.
import type { CronJob, Job } from '../core/index.js';
import { formatAge } from './age.js';
import { formatTable } from './table.js';

const NONE = '<none>';

/** `5s`, `1m30s`: how long a Job ran (to now while it runs). */
function jobDuration(j: Job, now: Date): string {
  const start = j.status?.startTime;
  if (!start) return NONE;
  return formatAge(start, new Date(j.status?.completionTime ? Date.parse(j.status.completionTime) : now.getTime()));
}

export function jobTable(items: readonly Job[], o: { wide: boolean; now: Date }): { headers: string[]; rows: string[][] } {
  const headers = ['NAME', 'STATUS', 'COMPLETIONS', 'ACTIVE', 'FAILED', 'DURATION', 'AGE', ...(o.wide ? ['IMAGES', 'CRONJOB'] : [])];
  const rows = items.map((j) => [
    j.metadata.name,
    j.status?.phase ?? 'Pending',
    `${j.status?.succeeded ?? 0}/${j.spec.completions ?? 1}`,
    String(j.status?.active ?? 0),
    String(j.status?.failed ?? 0),
    jobDuration(j, o.now),
    formatAge(j.metadata.createdAt, o.now),
    ...(o.wide ? [j.spec.containers.map((c) => c.image).join(','), j.metadata.labels?.['gantry.io/cronjob'] ?? NONE] : []),
  ]);
  return { headers, rows };
}

/** `5s ago`, `in 3s`. */
function relative(iso: string | undefined, now: Date): string {
  if (!iso) return NONE;
  const t = Date.parse(iso);
  return t <= now.getTime() ? `${formatAge(iso, now)} ago` : `in ${formatAge(now.toISOString(), new Date(t))}`;
}

export function cronJobTable(items: readonly CronJob[], o: { wide: boolean; now: Date }): { headers: string[]; rows: string[][] } {
  const headers = ['NAME', 'SCHEDULE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'NEXT', 'MISSED', 'AGE', ...(o.wide ? ['TIMEZONE', 'POLICY', 'IMAGES'] : [])];
  const rows = items.map((c) => [
    c.metadata.name,
    c.spec.schedule,
    String(c.spec.suspend ?? false),
    String(c.status?.active.length ?? 0),
    relative(c.status?.lastScheduleTime, o.now),
    c.spec.suspend ? NONE : relative(c.status?.nextScheduleTime, o.now),
    String(c.status?.missed ?? 0),
    formatAge(c.metadata.createdAt, o.now),
    ...(o.wide ? [c.spec.timeZone ?? 'UTC', c.spec.concurrencyPolicy ?? 'Allow', c.spec.jobTemplate.containers.map((x) => x.image).join(',')] : []),
  ]);
  return { headers, rows };
}

/** What `describe cronjob` adds: last and next runs, then the CronJob's Jobs, newest first. */
export function cronJobRuns(cj: CronJob, jobs: readonly Job[], now: Date): string {
  const st = cj.status;
  const lines = [
    `Last Schedule:   ${st?.lastScheduleTime ? `${st.lastScheduleTime} (${relative(st.lastScheduleTime, now)})` : NONE}`,
    `Next Schedule:   ${cj.spec.suspend ? 'suspended' : st?.nextScheduleTime ? `${st.nextScheduleTime} (${relative(st.nextScheduleTime, now)})` : NONE}`,
    `Last Success:    ${st?.lastSuccessfulTime ?? NONE}`,
    `Missed:          ${st?.missed ?? 0}${st?.lastMissedTime ? ` (latest ${st.lastMissedTime})` : ''}`,
  ];
  const mine = jobs
    .filter((j) => j.metadata.labels?.['gantry.io/cronjob'] === cj.metadata.name)
    .sort((a, b) => (b.metadata.annotations?.['gantry.io/scheduled-time'] ?? '').localeCompare(a.metadata.annotations?.['gantry.io/scheduled-time'] ?? ''));
  if (mine.length === 0) return `${lines.join('\n')}\nJobs:  <none>\n`;
  const rows = mine.map((j) => {
    const exit = j.status?.runs.map((r) => (r.exitCode === undefined ? '-' : String(r.exitCode))).join(',') || NONE;
    return [j.metadata.name, j.metadata.annotations?.['gantry.io/scheduled-time'] ?? NONE, j.status?.phase ?? 'Pending', `${j.status?.succeeded ?? 0}/${j.spec.completions ?? 1}`, exit, jobDuration(j, now)];
  });
  const table = formatTable(['JOB', 'SCHEDULED', 'STATUS', 'COMPLETIONS', 'EXIT CODES', 'DURATION'], rows)
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `${lines.join('\n')}\nJobs:\n${table}\n`;
}

/** The instance of run `run` of a Job (the latest run when absent), or an error text naming the runs. */
export function runInstanceOf(job: Job, run: number | undefined): { instance: string } | { error: string } {
  const runs = job.status?.runs ?? [];
  if (runs.length === 0) return { error: `job ${job.metadata.name} has no runs yet; wait for it to start (gantry get jobs)` };
  const pick = run === undefined ? runs[runs.length - 1] : runs.find((r) => r.run === run);
  if (!pick) return { error: `job ${job.metadata.name} has no run ${run}; its runs are ${runs.map((r) => r.run).join(', ')}` };
  return { instance: pick.instance };
}
