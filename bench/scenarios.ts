// The scenarios run.ts knows, by name. A new scenario (e2e, node-loss, churn) is one file that
// exports a Scenario and one line here.
import type { Scenario } from './scenario.js';
import { schedulerBench } from './scheduler-bench.js';

export const SCENARIOS: readonly Scenario[] = [schedulerBench];
