// Wire shape of live stats (docs/monitoring.md, "Live stats"): per container, its samples from the
// agent's memory and the instance's requests they are shown beside.
import Type, { type Static } from 'typebox';

export const UsageSampleSchema = Type.Object({
  at: Type.String(),
  cpuSeconds: Type.Number(),
  cpuCores: Type.Optional(Type.Number()),
  memoryWorkingSetBytes: Type.Number(),
  memoryRssBytes: Type.Number(),
  memoryLimitBytes: Type.Number(),
  networkRxBytes: Type.Optional(Type.Number()),
  networkTxBytes: Type.Optional(Type.Number()),
  blockReadBytes: Type.Number(),
  blockWriteBytes: Type.Number(),
  pids: Type.Number(),
});
export type UsageSampleView = Static<typeof UsageSampleSchema>;

export const ContainerSeriesSchema = Type.Object({
  namespace: Type.String(),
  instance: Type.String(),
  service: Type.String(),
  container: Type.String(),
  id: Type.String(),
  /** The instance's summed requests: millicores and bytes. */
  requests: Type.Object({ cpuMillis: Type.Number(), memoryBytes: Type.Number() }),
  samples: Type.Array(UsageSampleSchema),
});
export type ContainerSeriesView = Static<typeof ContainerSeriesSchema>;

export const StatsListSchema = Type.Object({ node: Type.String(), items: Type.Array(ContainerSeriesSchema) });
export type StatsList = Static<typeof StatsListSchema>;
