// The exec session's wire framing, one for the browser console and the CLI alike (as Kubernetes'
// v4.channel.k8s.io): every WebSocket binary message is one channel byte followed by its payload.
// Pure Uint8Array code so a browser bundle can use it too. docs/operate.md documents the channels.

export const EXEC_CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4 } as const;
export type ExecChannel = (typeof EXEC_CHANNEL)[keyof typeof EXEC_CHANNEL];

/** Channel 3: how a session ended (exactly one message, the last one). */
export type ExecStatus =
  | { readonly reason: 'exited'; readonly exitCode: number }
  | { readonly reason: 'error' | 'instance-gone' | 'agent-lost' | 'idle-timeout'; readonly message: string };

/** Channel 4: the terminal's new size (TTY sessions only). */
export interface ExecResize {
  readonly cols: number;
  readonly rows: number;
}

export type ExecFrame =
  | { readonly channel: 0 | 1 | 2; readonly data: Uint8Array }
  | { readonly channel: 3; readonly status: ExecStatus }
  | { readonly channel: 4; readonly size: ExecResize };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** One frame as the bytes of one WebSocket message. */
export function encodeExecFrame(frame: ExecFrame): Uint8Array {
  const payload =
    frame.channel === 3 ? encoder.encode(JSON.stringify(frame.status)) : frame.channel === 4 ? encoder.encode(JSON.stringify(frame.size)) : frame.data;
  const out = new Uint8Array(payload.length + 1);
  out[0] = frame.channel;
  out.set(payload, 1);
  return out;
}

/** The frame in one WebSocket message; throws a plain Error naming what is wrong with it. */
export function decodeExecFrame(message: Uint8Array): ExecFrame {
  const channel = message[0];
  const payload = message.subarray(1);
  switch (channel) {
    case 0:
    case 1:
    case 2:
      return { channel, data: payload };
    case 3:
      return { channel, status: parseStatus(parseJson(payload)) };
    case 4:
      return { channel, size: parseResize(parseJson(payload)) };
    default:
      throw new Error(channel === undefined ? 'empty exec frame' : `unknown exec channel ${channel}`);
  }
}

function parseJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(payload)) as unknown;
  } catch {
    throw new Error('exec frame payload is not JSON');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseStatus(value: unknown): ExecStatus {
  if (isRecord(value)) {
    if (value.reason === 'exited' && Number.isInteger(value.exitCode)) return { reason: 'exited', exitCode: value.exitCode as number };
    const other = ['error', 'instance-gone', 'agent-lost', 'idle-timeout'] as const;
    const reason = other.find((r) => r === value.reason);
    if (reason && typeof value.message === 'string') return { reason, message: value.message };
  }
  throw new Error('exec status frame needs {reason:"exited",exitCode} or {reason,message}');
}

function parseResize(value: unknown): ExecResize {
  const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) <= 65535;
  if (isRecord(value) && ok(value.cols) && ok(value.rows)) return { cols: value.cols, rows: value.rows };
  throw new Error('exec resize frame needs {cols,rows}: integers 1-65535');
}
