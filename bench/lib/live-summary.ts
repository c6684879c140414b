// The human summary lines shared by the end-to-end scenarios: the rollout's instants, the API
// probe and the processes' CPU and memory, each saying how it was measured.
import type { Figure } from '../scenario.js';
import type { LiveSettings } from './live-flags.js';
import type { LiveSession } from './live-session.js';
import type { RolloutRecord } from './rollout.js';
import { healthLine } from './live-report.js';

const show = (v: Figure | undefined, unit: string): string => (v === null || v === undefined ? 'never' : `${String(v)} ${unit}`);

/** Lines for one rollout; `figures` holds rolloutFigures and processFigures keys. */
export function liveSummary(session: LiveSession, rec: RolloutRecord, f: Record<string, Figure>, s: LiveSettings, what = 'the first apply'): string[] {
  const rolloutSeconds = ((rec.statusReadyMs ?? rec.runningMs ?? session.now()) - rec.startMs) / 1000;
  const serverCpu = typeof f.serverCpuSeconds === 'number' && rolloutSeconds > 0 ? (f.serverCpuSeconds / rolloutSeconds).toFixed(2) : '?';
  return [
    `all Running: ${show(f.allRunningSeconds, 's')} after ${what} (clock started with every node ready; Running = seen on the instance watch); ` +
      `applies answered by ${show(f.applySeconds, 's')} (each workload apply p50 ${show(f.serviceApplyP50Ms, 'ms')}, p99 ${show(f.serviceApplyP99Ms, 'ms')})`,
    `placement: all ${rec.replicas} bound (spec.node set, seen on the watch) at ${show(f.allBoundSeconds, 's')} -> ${show(f.placementsPerSecond, 'placements/s')} (instances / time to all bound)`,
    `service status: every service readyReplicas == replicas at ${show(f.statusReadySeconds, 's')} (services list polled every 1 s, then every 250 ms once all ran)`,
    `API probe (${s.probeRate}/s open loop, sent while the cluster worked): GET service/instance p50 ${show(f.apiGetP50Ms, 'ms')}, p99 ${show(f.apiGetP99Ms, 'ms')}; ` +
      `apply unchanged/scale p50 ${show(f.apiApplyP50Ms, 'ms')}, p99 ${show(f.apiApplyP99Ms, 'ms')}; ${String(f.probeRequests)} answered, ${String(f.probeFailures)} failed` +
      (session.probe && session.probe.skipped > 0 ? `, ${session.probe.skipped} skipped (64 in flight)` : ''),
    ...(f.benchLoopMaxMs === undefined
      ? []
      : [
          `the same requests as the server timed them (its histogram, read -> answered; p99 as its bucket's bound): GET p99 <= ${show(f.serverGetP99UpToMs, 'ms')} of ${String(f.serverGets)}, ` +
            `apply/scale p99 <= ${show(f.serverApplyP99UpToMs, 'ms')} of ${String(f.serverApplies)} (workload applies included); ` +
            `bench process event loop: max delay ${show(f.benchLoopMaxMs, 'ms')}, p99 ${show(f.benchLoopP99Ms, 'ms')} (the probe and the watch run there)`,
          `requests the server answered meanwhile: ${String(f.serverRequestsPerSecond ?? '?')}/s (${String(f.serverBusiestRoutes ?? 'none')}); ` +
            `store writes that waited for a later loop turn: ${String(f.serverDeferredWrites ?? '?')}`,
        ]),
    `server process: peak RSS ${show(f.serverPeakRssMiB, 'MiB')} (VmHWM), CPU ${show(f.serverCpuSeconds, 's')} during the rollout (${serverCpu} cores on average), ` +
      `${show(f.serverCpuTotalSeconds, 's')} since it started; sim: peak RSS ${show(f.simPeakRssMiB, 'MiB')}, CPU ${show(f.simCpuTotalSeconds, 's')} in all`,
    `host: ${String(f.hostCpus)} CPUs, 1-min load average ${String(f.hostLoadAtStart)} at the start, ${String(f.hostLoadAtEnd)} at the end ` +
      `(server, sim and bench share these CPUs; load from anything else skews every figure); speed before the server started ${String(f.hostSpeedAtStart ?? '?')}k JSON round trips/s (host-speed.ts)`,
    ...(f.serverLoopWindows === undefined ? [] : [healthLine(f)]),
  ];
}
