// Benchmark entry point: `node --import tsx bench/run.ts <scenario> [flags]` (or `npm run bench --`).
// Every scenario prints the same shape (README.md, "Output contract"): summary lines, the chart
// path, then the figures as one JSON object on the last line of stdout.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { isAppError } from '../src/core/index.js';
import { FlagReader } from './lib/flags.js';
import { writeHtmlReport } from './lib/html-report.js';
import type { Scenario } from './scenario.js';
import { SCENARIOS } from './scenarios.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return 0;
  }
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) {
    process.stderr.write(`${name === undefined ? 'no scenario given' : `unknown scenario "${name}"`}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  let values: ReturnType<typeof parseArgs>['values'];
  try {
    ({ values } = parseArgs({ args: [...rest], options: parseArgsOptions(scenario), strict: true, allowPositionals: false }));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${scenarioUsage(scenario)}`);
    return EXIT_USAGE;
  }
  if (values.help === true) {
    process.stdout.write(scenarioUsage(scenario));
    return 0;
  }

  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Error('interrupted by SIGINT'));
  process.once('SIGINT', onSigint);
  try {
    const startedAt = new Date();
    const result = await scenario.run(new FlagReader(scenario.flags, values), { signal: controller.signal });
    const chartPath = await writeHtmlReport(RESULTS_DIR, scenario.name, result, startedAt);
    const lines = [result.title, ...result.summary.map((l) => `  ${l}`), `  chart: ${relative(process.cwd(), chartPath)}`];
    for (const v of result.violations) lines.push(`FAIL: ${v}`);
    lines.push(JSON.stringify(result.figures));
    process.stdout.write(`${lines.join('\n')}\n`);
    return result.violations.length > 0 ? 1 : 0;
  } catch (e) {
    if (controller.signal.aborted) {
      process.stderr.write(`${scenario.name}: interrupted\n`);
      return EXIT_INTERRUPTED;
    }
    if (isAppError(e, 'INVALID')) {
      process.stderr.write(`${e.message}\n\n${scenarioUsage(scenario)}`);
      return EXIT_USAGE;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function parseArgsOptions(scenario: Scenario): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [flag, spec] of Object.entries(scenario.flags)) {
    options[flag] =
      spec.type === 'boolean'
        ? { type: 'boolean', ...(typeof spec.default === 'boolean' ? { default: spec.default } : {}) }
        : { type: 'string', ...(typeof spec.default === 'string' ? { default: spec.default } : {}) };
  }
  return options;
}

function usage(): string {
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  return [
    'usage: npm run bench -- <scenario> [flags]      (node --import tsx bench/run.ts <scenario> [flags])',
    '',
    'scenarios:',
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(width)}  ${s.description}`),
    '',
    'flags of a scenario: npm run bench -- <scenario> --help',
    '',
  ].join('\n');
}

function scenarioUsage(scenario: Scenario): string {
  const rows = Object.entries(scenario.flags).map(([flag, spec]) => {
    const left = `--${flag}${spec.value ? ` ${spec.value}` : ''}`;
    const dflt = spec.default !== undefined && spec.type === 'string' ? ` (default ${spec.default})` : '';
    return [left, `${spec.description}${dflt}`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `usage: npm run bench -- ${scenario.name} [flags]`,
    `  ${scenario.description}`,
    '',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    '',
  ].join('\n');
}

process.exitCode = await main(process.argv.slice(2));
