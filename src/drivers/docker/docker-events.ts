// Container lifecycle events for one node, from Docker's event stream (newline-delimited JSON).
// A dropped stream (dockerd restart) is reopened from the last event's time (before the first
// event: from when it was first opened), so dockerd replays what the gap missed; the agent also
// re-inspects on a timer (30 s), so a duplicate or a gap here costs a little work, never correctness.
import type { Logger } from 'pino';
import type Docker from 'dockerode';
import { sleep } from '../../core/index.js';
import { LABELS, type DriverEvent } from '../driver.js';
import { LineSplitter } from './line-splitter.js';

const ACTIONS: ReadonlySet<string> = new Set(['start', 'die', 'oom', 'destroy']);
const RECONNECT_MS = 1000;

interface DockerEventMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
}

/** One line of the event stream -> a driver event, or undefined for lines we do not care about. */
export function parseEventLine(line: string): (DriverEvent & { time?: number }) | undefined {
  if (line.trim() === '') return undefined;
  let msg: DockerEventMessage;
  try {
    msg = JSON.parse(line) as DockerEventMessage;
  } catch {
    return undefined;
  }
  const id = msg.Actor?.ID;
  if (msg.Type !== 'container' || !id || !msg.Action || !ACTIONS.has(msg.Action)) return undefined;
  // Docker puts the container's labels among the actor's attributes.
  const instanceUid = msg.Actor?.Attributes?.[LABELS.instanceUid];
  return {
    id,
    action: msg.Action as DriverEvent['action'],
    ...(typeof instanceUid === 'string' && instanceUid !== '' ? { instanceUid } : {}),
    ...(typeof msg.time === 'number' ? { time: msg.time } : {}),
  };
}

export async function* streamEvents(
  docker: Docker,
  labelFilters: string[],
  signal: AbortSignal,
  logger?: Logger,
): AsyncGenerator<DriverEvent, void, undefined> {
  // From the first opening on, so a reopen before any event arrived replays the gap too (seconds:
  // an event of the same second may come twice, which costs a look, not correctness).
  let since = Math.floor(Date.now() / 1000);
  while (!signal.aborted) {
    let stream: NodeJS.ReadableStream | undefined;
    const stop = () => (stream as (NodeJS.ReadableStream & { destroy(): void }) | undefined)?.destroy();
    signal.addEventListener('abort', stop, { once: true });
    try {
      stream = await docker.getEvents({
        filters: { type: ['container'], event: [...ACTIONS], label: labelFilters },
        since,
      });
      if (signal.aborted) stop();
      const lines = new LineSplitter();
      for await (const chunk of stream) {
        for (const line of lines.push(chunk)) {
          const event = parseEventLine(line);
          if (!event) continue;
          if (event.time !== undefined) since = event.time;
          const { time: _time, ...driverEvent } = event;
          yield driverEvent;
        }
      }
    } catch (e) {
      if (signal.aborted) break;
      logger?.warn({ err: e }, 'docker event stream failed; reopening');
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
    if (!signal.aborted) await sleep(RECONNECT_MS, signal);
  }
}
