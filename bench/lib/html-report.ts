// A scenario's result as one self-contained HTML file: the summary, the charts as inline SVG and
// the JSON figures. Written under bench/results/ (git-ignored) so runs can be compared later.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScenarioResult } from '../scenario.js';
import { escapeXml, svgLineChart } from './svg-line-chart.js';

export function renderHtmlReport(scenario: string, result: ScenarioResult, startedAt: Date): string {
  const charts = result.charts.map((c) => `<figure>${svgLineChart(c)}</figure>`).join('\n');
  const violations = result.violations.length
    ? `<h2 class="fail">Correctness violations</h2><pre class="fail">${escapeXml(result.violations.join('\n'))}</pre>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(`${scenario} bench ${startedAt.toISOString()}`)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #111827; }
pre { background: #f3f4f6; padding: 12px; overflow-x: auto; }
figure { margin: 16px 0; }
.fail { color: #b91c1c; }
</style>
</head>
<body>
<h1>${escapeXml(result.title)}</h1>
<p>Started ${escapeXml(startedAt.toISOString())}</p>
<pre>${escapeXml(result.summary.join('\n'))}</pre>
${violations}
${charts}
<h2>Figures</h2>
<pre>${escapeXml(JSON.stringify(result.figures, null, 2))}</pre>
</body>
</html>
`;
}

/** Writes the report as `<dir>/<scenario>-<timestamp>.html` and returns its path. */
export async function writeHtmlReport(
  dir: string,
  scenario: string,
  result: ScenarioResult,
  startedAt: Date,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  // ISO time without ':' and '.', which some file systems and shells handle badly.
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const path = join(dir, `${scenario}-${stamp}.html`);
  await writeFile(path, renderHtmlReport(scenario, result, startedAt), 'utf8');
  return path;
}
