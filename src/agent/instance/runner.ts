// What the supervisor asks of the runner of one Instance on this node: InstanceRunner (containers
// of its own) or WarmRunner (one exec in a shared warm container, runIn warm).
import type { Instance } from '../../core/index.js';

export interface Runner {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /**
   * Names of the containers that still run (what removing the instance has to kill). Empty once
   * they have stopped (a `stop instance` that went through): then no `Killing` event.
   */
  readonly containerNames: string[];
  /** Finished for good: its exited containers are only kept for their logs. */
  readonly finished: boolean;
  /** Its running containers, for the stats sampler (a warm run has none of its own). */
  liveContainers(): { container: string; id: string }[];
  /** Whether a container id (or a warm run's log id) belongs to this instance. */
  owns(id: string): boolean;
  /** The dead-container GC removed this container: forget it. */
  forgetContainer(id: string): void;
  /** The runtime stopped answering: pause whatever judges containers by probing them. */
  runtimeLost(): void;
  /** The runtime answers again after an outage: re-read state, trust no verdict from the outage. */
  runtimeRecovered(): void;
  /** A newer revision of the same instance. */
  update(instance: Instance): void;
  /** Asks for a reconcile pass soon; cheap and safe to call often. */
  poke(): void;
  /** The output lines of a log id only this runner keeps (a warm run's), or undefined. */
  keptLog(logId: string, tail: number | undefined): string[] | undefined;
  /** The instance is no longer wanted here: stop and remove what it has. */
  remove(): Promise<void>;
  /** The agent is stopping: leave every container as it is; no pass starts again. */
  detach(): void;
  /** Resolves once no reconcile pass runs. */
  idle(): Promise<void>;
}
