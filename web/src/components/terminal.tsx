// The exec terminal: xterm over the exec WebSocket (docs/operate.md). A POST with the token asks
// for a signed single-use ticket; the WebSocket carries the ticket, never the token. Loaded lazily
// with xterm when the Terminal tab is first opened.
import '@xterm/xterm/css/xterm.css';
import { Alert, Badge, Button, Group, Stack, TextInput } from '@mantine/core';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef, useState } from 'react';
import { decodeExecFrame, encodeExecFrame, type ExecStatus } from '../../../src/core/exec-frames.js';
import { ApiError, sendJson } from '../api/http.js';
import { objectPath } from '../api/paths.js';

function ended(status: ExecStatus | undefined, closeCode: number, closeReason: string): string {
  if (status?.reason === 'exited') return `The process exited with code ${status.exitCode}.`;
  if (status) return `The session ended (${status.reason}): ${status.message}`;
  return `The connection closed (${closeCode}${closeReason ? `: ${closeReason}` : ''}) before the process ended.`;
}

/** How long input waits for the process's first output before it is sent anyway. */
const HOLD_INPUT_MS = 5000;
/** The process's first output is over once it has been quiet this long. */
const QUIET_MS = 250;

export function ExecTerminal({ ns, instance, containers }: { ns: string; instance: string; containers: string[] }) {
  const host = useRef<HTMLDivElement>(null);
  const [container, setContainer] = useState(containers[0] ?? '');
  const [command, setCommand] = useState('sh');
  const [state, setState] = useState<'idle' | 'connecting' | 'open' | 'ended'>('idle');
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [session, setSession] = useState(0);

  useEffect(() => {
    if (session === 0 || !host.current) return;
    const term = new Terminal({ cursorBlink: true, fontSize: 13, fontFamily: 'ui-monospace, Menlo, Consolas, monospace', convertEol: false, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current);
    fit.fit();
    let ws: WebSocket | undefined;
    let status: ExecStatus | undefined;
    const encoder = new TextEncoder();
    const disposers: { dispose(): void }[] = [];
    const onResize = (): void => fit.fit();
    window.addEventListener('resize', onResize);
    let cancelled = false;
    // Keys typed before the process first writes (its prompt) are held, then sent after it: a
    // terminal echoes what it receives, so sent at once they showed above the shell's banner.
    let ready = false;
    const held: string[] = [];
    let readyTimer: ReturnType<typeof setTimeout> | undefined;
    const send = (d: string): void => {
      if (ws?.readyState === WebSocket.OPEN) ws.send(encodeExecFrame({ channel: 0, data: encoder.encode(d) }));
    };
    const release = (): void => {
      if (ready || ws?.readyState !== WebSocket.OPEN) return;
      ready = true;
      clearTimeout(readyTimer);
      for (const d of held.splice(0)) send(d);
    };
    // Listening from the start: keys typed while the ticket is fetched are held too.
    disposers.push(
      term.onData((d) => {
        if (!ready) held.push(d);
        else send(d);
      }),
    );
    const start = async (): Promise<void> => {
      setState('connecting');
      setMessage(undefined);
      try {
        const words = command.trim().split(/\s+/).filter(Boolean);
        const ticket = await sendJson<{ ticket: string; path: string }>('POST', `${objectPath('instances', ns, instance)}/exec`, { command: words.length ? words : ['sh'], container, tty: true, stdin: true });
        if (cancelled) return;
        const q = new URLSearchParams({ ticket: ticket.ticket, cols: String(term.cols), rows: String(term.rows) });
        ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${ticket.path}?${q.toString()}`);
        ws.binaryType = 'arraybuffer';
        ws.onopen = () => {
          setState('open');
          term.focus();
          // A command that prints nothing until it reads (cat) still gets what was typed.
          readyTimer = setTimeout(release, HOLD_INPUT_MS);
        };
        ws.onmessage = (ev: MessageEvent<ArrayBuffer>) => {
          const frame = decodeExecFrame(new Uint8Array(ev.data));
          if (frame.channel === 1 || frame.channel === 2) {
            term.write(frame.data);
            // The shell has spoken: what was typed meanwhile goes in once its banner and prompt
            // are all out (output quiet for a moment), after them.
            if (!ready) {
              clearTimeout(readyTimer);
              readyTimer = setTimeout(release, QUIET_MS);
            }
          } else if (frame.channel === 3) status = frame.status;
        };
        ws.onclose = (ev) => {
          setState('ended');
          setMessage(ended(status, ev.code, ev.reason));
        };
        disposers.push(
          term.onResize(({ cols, rows }) => ws?.readyState === WebSocket.OPEN && ws.send(encodeExecFrame({ channel: 4, size: { cols, rows } }))),
        );
      } catch (e) {
        setState('ended');
        setMessage(e instanceof ApiError ? e.message : String(e));
      }
    };
    void start();
    return () => {
      cancelled = true;
      clearTimeout(readyTimer);
      window.removeEventListener('resize', onResize);
      for (const d of disposers) d.dispose();
      ws?.close();
      term.dispose();
    };
    // A new session only when asked (session counter); the inputs are read at that moment.
  }, [session]);

  return (
    <Stack gap="xs">
      <Group gap="sm" align="end">
        {containers.length > 1 && <TextInput label="Container" value={container} onChange={(e) => setContainer(e.currentTarget.value)} w={160} />}
        <TextInput label="Command" value={command} onChange={(e) => setCommand(e.currentTarget.value)} w={220} data-testid="exec-command" />
        <Button onClick={() => setSession((s) => s + 1)} disabled={state === 'connecting' || state === 'open'} data-testid="exec-open">
          {session === 0 ? 'Open terminal' : 'Reconnect'}
        </Button>
        <Badge variant="light" color={state === 'open' ? 'green' : state === 'ended' ? 'gray' : 'blue'} data-testid="exec-state">
          {state}
        </Badge>
      </Group>
      {message && (
        <Alert color={state === 'ended' ? 'gray' : 'red'} data-testid="exec-message">
          {message}
        </Alert>
      )}
      <div ref={host} data-testid="terminal" style={{ height: 400, background: '#000', padding: 4, borderRadius: 4 }} />
    </Stack>
  );
}
