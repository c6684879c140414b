// The scenarios run.ts knows, by name. A new scenario is one file that exports a Scenario and one
// line here.
import { churnBench } from './churn-bench.js';
import { cliBench } from './cli-bench.js';
import { consoleBench } from './console-bench.js';
import { consoleSimBench } from './console-sim-bench.js';
import { cronBench } from './cron-bench.js';
import { dnsBench } from './dns-bench.js';
import { dockerBench } from './docker-bench.js';
import { lbBench } from './lb-bench.js';
import { e2eBench } from './e2e-bench.js';
import { idleBench } from './idle-bench.js';
import { nodeLossBench } from './node-loss-bench.js';
import { restartBench } from './restart-bench.js';
import { soakBench } from './soak-bench.js';
import type { Scenario } from './scenario.js';
import { schedulerBench } from './scheduler-bench.js';
import { statsBench } from './stats-bench.js';
import { storeBench } from './store-bench.js';

export const SCENARIOS: readonly Scenario[] = [schedulerBench, e2eBench, nodeLossBench, restartBench, idleBench, soakBench, churnBench, cronBench, dnsBench, lbBench, cliBench, consoleBench, consoleSimBench, statsBench, dockerBench, storeBench];
