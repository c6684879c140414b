// CPU and memory of an instance over the last 15 minutes, from the stats API (samples the agent
// keeps in memory; docs/monitoring.md), followed with `?watch=1`: each sampling round arrives as
// the agent takes it. Request and limit are drawn as lines. Loaded lazily with uPlot.
import 'uplot/dist/uPlot.min.css';
import { Alert, Group, Stack, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import type { StatsList } from '../../../src/core/index.js';
import { ApiError, lines, request } from '../api/http.js';
import { objectPath } from '../api/paths.js';
import { bytes } from './bits.js';

const WINDOW_S = 15 * 60;
/** After the stream ends or fails, open it again this much later. */
const RETRY_MS = 3000;

interface Point {
  t: number;
  cores: number | null;
  memory: number;
  limit: number;
}

/** Per sample time, the instance's containers summed. */
function pointsOf(list: StatsList): Point[] {
  const byTime = new Map<number, Point>();
  for (const series of list.items) {
    for (const s of series.samples) {
      const t = Math.round(Date.parse(s.at) / 1000);
      const p = byTime.get(t) ?? { t, cores: null, memory: 0, limit: 0 };
      if (s.cpuCores !== undefined) p.cores = (p.cores ?? 0) + s.cpuCores;
      p.memory += s.memoryWorkingSetBytes;
      p.limit += s.memoryLimitBytes;
      byTime.set(t, p);
    }
  }
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}

function Chart({ title, testId, data, points, series, format }: { title: string; testId: string; data: uPlot.AlignedData; points: number; series: uPlot.Series[]; format: (v: number) => string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    if (!host.current) return;
    const now = Date.now() / 1000;
    plot.current = new uPlot(
      {
        width: host.current.clientWidth || 600,
        height: 220,
        // From zero, with room above the highest of used, request and limit: a flat line reads as flat.
        scales: { x: { time: true, range: () => [Date.now() / 1000 - WINDOW_S, Date.now() / 1000] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
        axes: [{}, { values: (_u, ticks) => ticks.map(format), size: 70 }],
        series: [{}, ...series],
        legend: { show: true },
      },
      [[now], ...series.map(() => [null])] as uPlot.AlignedData,
      host.current,
    );
    return () => plot.current?.destroy();
    // One chart per mount; data comes through setData below.
  }, [series.length]);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return (
    <Stack gap={2}>
      <Text fw={600} size="sm">
        {title}
      </Text>
      <div ref={host} data-testid={testId} data-points={points} />
    </Stack>
  );
}

export function UsageCharts({ ns, instance }: { ns: string; instance: string }) {
  const [list, setList] = useState<StatsList | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    const stop = new AbortController();
    let since: string | undefined;
    let merged: StatsList | undefined;
    // The stream (?watch=1) pushes each sampling round as the agent takes it; when it drops
    // (agent restart, network), it is opened again from the last sample seen.
    const follow = async (): Promise<void> => {
      while (!stop.signal.aborted) {
        try {
          const q = new URLSearchParams({ watch: '1', ...(since ? { since } : {}) });
          const res = await request(`${objectPath('instances', ns, instance)}/stats?${q.toString()}`, { signal: stop.signal });
          for await (const text of lines(res, stop.signal)) {
            if (!text.trim()) continue;
            const line = JSON.parse(text) as StatsList | { error: string };
            if ('error' in line) {
              setError(line.error);
              continue;
            }
            merged = merge(merged, line);
            const last = merged.items.flatMap((s) => s.samples.map((x) => x.at)).sort().pop();
            if (last) since = new Date(Date.parse(last) + 1).toISOString();
            setList(merged);
            setError(undefined);
          }
        } catch (e) {
          if (stop.signal.aborted) return;
          setError(e instanceof ApiError ? e.message : String(e));
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    };
    void follow();
    return () => {
      stop.abort();
    };
  }, [ns, instance]);

  const points = list ? pointsOf(list) : [];
  const cutoff = Date.now() / 1000 - WINDOW_S;
  const shown = points.filter((p) => p.t >= cutoff);
  const requests = list?.items[0]?.requests;
  const t = shown.map((p) => p.t);
  const cpuData: uPlot.AlignedData = [t, shown.map((p) => p.cores), shown.map(() => (requests ? requests.cpuMillis / 1000 : null))];
  const memData: uPlot.AlignedData = [t, shown.map((p) => p.memory), shown.map(() => requests?.memoryBytes ?? null), shown.map((p) => p.limit || null)];
  return (
    <Stack>
      {error && <Alert color="orange">{error}</Alert>}
      <Group grow align="start">
        <Chart
          title="CPU (cores)"
          testId="cpu-chart"
          data={cpuData}
          points={shown.filter((p) => p.cores !== null).length}
          format={(v) => v.toFixed(2)}
          series={[
            { label: 'used', stroke: '#4c6ef5', width: 2, points: { show: true } },
            { label: 'request', stroke: '#fab005', dash: [6, 4] },
          ]}
        />
        <Chart
          title="Memory (working set)"
          testId="memory-chart"
          data={memData}
          points={shown.length}
          format={bytes}
          series={[
            { label: 'used', stroke: '#12b886', width: 2, points: { show: true }, value: (_u, v) => (v === null ? '' : bytes(v)) },
            { label: 'request', stroke: '#fab005', dash: [6, 4], value: (_u, v) => (v === null ? '' : bytes(v)) },
            { label: 'limit', stroke: '#fa5252', dash: [2, 4], value: (_u, v) => (v === null ? '' : bytes(v)) },
          ]}
        />
      </Group>
      <Text size="xs" c="dimmed">
        The last 15 minutes, sampled by the node's agent (every --stats-interval, 10 s by default); CPU needs two samples.
      </Text>
    </Stack>
  );
}

/** Adds the new samples of each container series to what was there. */
function merge(old: StatsList | undefined, next: StatsList): StatsList {
  if (!old) return next;
  const items = old.items.map((s) => ({ ...s, samples: [...s.samples] }));
  for (const n of next.items) {
    const same = items.find((s) => s.id === n.id);
    if (same) {
      const seen = new Set(same.samples.map((x) => x.at));
      same.samples.push(...n.samples.filter((x) => !seen.has(x.at)));
    } else items.push(n);
  }
  return { ...next, items };
}
