// A small inline-SVG line chart for benchmark reports: axes from zero with "nice" ticks, one
// polyline per series, a legend. No scripts, no external assets, so a report opens offline.

export interface LineSeries {
  name: string;
  /** [x, y] pairs in increasing x. */
  points: readonly (readonly [number, number])[];
  color?: string;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
}

const WIDTH = 860;
const HEIGHT = 360;
const MARGIN = { top: 40, right: 24, bottom: 52, left: 80 };
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];
/** More points than pixels only makes the file bigger. */
const MAX_POINTS = 2000;

export function svgLineChart(spec: LineChartSpec): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const all = spec.series.flatMap((s) => s.points);
  const xAxis = niceAxis(Math.max(0, ...all.map((p) => p[0])));
  const yAxis = niceAxis(Math.max(0, ...all.map((p) => p[1])));
  const sx = (x: number): number => MARGIN.left + (x / xAxis.max) * plotW;
  const sy = (y: number): number => MARGIN.top + plotH - (y / yAxis.max) * plotH;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="15" font-weight="600">${escapeXml(spec.title)}</text>`,
  );
  for (const t of xAxis.ticks) {
    const x = fmt(sx(t));
    parts.push(
      `<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#e5e7eb"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle" font-size="11">${tickLabel(t, xAxis.max)}</text>`,
    );
  }
  for (const t of yAxis.ticks) {
    const y = fmt(sy(t));
    parts.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${tickLabel(t, yAxis.max)}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#9ca3af"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle" font-size="12">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(spec.yLabel)}</text>`,
  );
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length] ?? '#000';
    const pts = thin(s.points).map(([x, y]) => `${fmt(sx(x))},${fmt(sy(y))}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts}"/>`);
    // Legend in the top margin, right-aligned and stacked, so it never hides a line.
    const ly = 12 + i * 16;
    const lx = WIDTH - MARGIN.right;
    parts.push(
      `<line x1="${lx - 18}" y1="${ly}" x2="${lx}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${lx - 24}" y="${ly}" text-anchor="end" dominant-baseline="middle" font-size="12">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** An axis from 0 to a round number at or above `max`, with ticks at steps of 1, 2 or 5 × 10^k. */
export function niceAxis(max: number, target = 6): { max: number; ticks: number[] } {
  if (!(max > 0) || !Number.isFinite(max)) return { max: 1, ticks: [0, 1] };
  const raw = max / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  // Counting steps (not adding them) keeps float error from dropping or doubling the last tick.
  for (let i = 0; i * step <= top + step / 2; i++) ticks.push(round(i * step));
  return { max: round(top), ticks };
}

/** One unit for a whole axis (chosen by its top), so `5000` never sits next to `10k`. */
function tickLabel(v: number, axisMax: number): string {
  if (axisMax >= 1e6) return `${round(v / 1e6)}M`;
  if (axisMax >= 1e4) return `${round(v / 1e3)}k`;
  return String(round(v));
}

function thin(points: readonly (readonly [number, number])[]): (readonly [number, number])[] {
  if (points.length <= MAX_POINTS) return points.slice();
  const every = Math.ceil(points.length / MAX_POINTS);
  const out = points.filter((_, i) => i % every === 0);
  const last = points[points.length - 1];
  if (last && out[out.length - 1] !== last) out.push(last);
  return out;
}

function round(v: number): number {
  return Number(v.toPrecision(10));
}

function fmt(v: number): string {
  return v.toFixed(1);
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
