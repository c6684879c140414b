// How fast this machine runs a fixed piece of JavaScript right now. The machines these benches run
// on are shared: the same one-thread loop ran at 459k to 804k round trips a second on one idle
// machine within a minute (2026-12-07), and a 5,000-node rollout took 114.9 s and 154.2 s there
// on code that differed by a few percent. Load average does not show that (nothing else of ours
// ran); this figure, printed beside the results, does: compare runs only at similar speeds.

/** A small object of the kind the control plane serializes all day. */
const SAMPLE = { kind: 'Instance', metadata: { name: 'svc-0001-abcde', labels: { app: 'web' } }, spec: { node: 'hollow-1', cpu: 100 }, status: { phase: 'Running', ready: true } };

/**
 * JSON round trips of SAMPLE per second on this thread, in thousands: the median of `slices`
 * slices of `sliceMs` each (a noisy neighbour shows as a low median, not one outlier).
 */
export function measureHostSpeed(slices = 5, sliceMs = 200): number {
  const rates: number[] = [];
  for (let s = 0; s < slices; s++) {
    const t0 = performance.now();
    let n = 0;
    let elapsed = 0;
    while ((elapsed = performance.now() - t0) < sliceMs) {
      for (let i = 0; i < 500; i++) JSON.parse(JSON.stringify(SAMPLE));
      n += 500;
    }
    rates.push(n / elapsed);
  }
  rates.sort((a, b) => a - b);
  return Math.round(rates[Math.floor(rates.length / 2)]!);
}
