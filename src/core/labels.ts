// Placement constraints on node labels: `rack=a`, `pool!=gpu`. A missing label never equals a value.

export interface Constraint {
  key: string;
  op: '=' | '!=';
  value: string;
}

export function parseConstraint(text: string): Constraint | undefined {
  const m = /^([A-Za-z0-9._/-]+)(!=|=)([A-Za-z0-9._/-]*)$/.exec(text);
  if (!m) return undefined;
  return { key: m[1] ?? '', op: m[2] as '=' | '!=', value: m[3] ?? '' };
}

export function constraintMatches(c: Constraint, labels: Readonly<Record<string, string>> | undefined): boolean {
  const v = labels?.[c.key];
  return c.op === '=' ? v === c.value : v !== c.value;
}

/** Parses `rack=a,pool=web` as given to `gantry agent --labels`. */
export function parseLabelList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`label "${part}" must be key=value`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Runs of one group share a warm container per node (jobs with runIn warm): a CronJob's Jobs name the CronJob. */
export const WARM_GROUP_LABEL = 'gantry.io/warm-group';

/** On a Job made by a CronJob: the CronJob's name. */
export const CRONJOB_LABEL = 'gantry.io/cronjob';
