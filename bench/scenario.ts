// What a benchmark scenario is: named flags in, a result that run.ts turns into the output
// contract (summary lines, a chart file, one JSON line last). Scenarios do no printing of their
// own so every scenario's output has the same shape.
import type { FlagReader } from './lib/flags.js';
import type { LineChartSpec } from './lib/svg-line-chart.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** Shown in the usage text; applied when the flag is absent. */
  default?: string | boolean;
  /** Placeholder for the value in the usage text, e.g. `<n>`. */
  value?: string;
  description: string;
}

/**
 * A JSON figure: numbers carry their unit in the key (`decisionP99Us`, `wallSeconds`). A list is
 * one value per step of a scenario that repeats (churn rounds), in order.
 */
export type Figure = number | string | boolean | null | readonly (number | null)[];
/** Figures that belong together under one key, as `endpointChangeMs: {p50, p99}`. */
export type FigureGroup = Readonly<Record<string, number | null>>;

export interface ScenarioResult {
  /** One line: what ran, e.g. `scheduler: 5000 nodes, 20000 instances, spread rack`. */
  title: string;
  /** A few human lines with the key figures and their units. */
  summary: string[];
  /** The figures, printed as one JSON object on the last line of stdout. */
  figures: Record<string, Figure | FigureGroup>;
  charts: LineChartSpec[];
  /** Correctness failures found by the scenario's own checks; any makes the run exit 1. */
  violations: string[];
}

export interface ScenarioContext {
  /** Aborted on SIGINT: a scenario stops between steps and throws the signal's reason. */
  signal: AbortSignal;
}

export interface Scenario {
  name: string;
  /** One line for the usage text. */
  description: string;
  flags: Readonly<Record<string, FlagSpec>>;
  run(flags: FlagReader, ctx: ScenarioContext): Promise<ScenarioResult>;
}
