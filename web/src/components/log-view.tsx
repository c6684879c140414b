// A container's log, followed live. Lines are hostile text: they are React text nodes, never HTML.
// The buffer keeps the last MAX_LINES and says when it dropped older ones.
import { Alert, Badge, Box, Button, Group, Select, Switch, Text, TextInput } from '@mantine/core';
import { useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, lines, request } from '../api/http.js';
import { objectPath } from '../api/paths.js';

export const MAX_LINES = 5000;

interface Line {
  n: number;
  at: number;
  text: string;
}

export function LogView({ ns, instance, containers }: { ns: string; instance: string; containers: string[] }) {
  const [container, setContainer] = useState(containers[0] ?? '');
  const [buffer, setBuffer] = useState<{ lines: Line[]; dropped: number }>({ lines: [], dropped: 0 });
  const [paused, setPaused] = useState(false);
  const [times, setTimes] = useState(false);
  // From the container runtime (the API's timestamps=1), not when the line reached the browser.
  const [stamps, setStamps] = useState(false);
  // The run before the last restart (previous=1): a finished log, not followed.
  const [previous, setPrevious] = useState(false);
  const [search, setSearch] = useState('');
  const [state, setState] = useState<'connecting' | 'following' | 'ended' | 'error'>('connecting');
  const [error, setError] = useState<string | undefined>(undefined);
  const [attempt, setAttempt] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const pending = useRef<Line[]>([]);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  useEffect(() => {
    const stop = new AbortController();
    let n = 0;
    setBuffer({ lines: [], dropped: 0 });
    setState('connecting');
    setError(undefined);
    // Lines are added to the view at most every 100 ms: a chatty container costs a few renders a second.
    const flush = setInterval(() => {
      if (pausedRef.current || pending.current.length === 0) return;
      const add = pending.current;
      pending.current = [];
      setBuffer((b) => {
        const all = b.lines.concat(add);
        const over = Math.max(0, all.length - MAX_LINES);
        return { lines: over > 0 ? all.slice(over) : all, dropped: b.dropped + over };
      });
    }, 100);
    const run = async (): Promise<void> => {
      try {
        const q = new URLSearchParams({ container, tail: '1000', ...(previous ? { previous: '1' } : { follow: '1' }), ...(stamps ? { timestamps: '1' } : {}) });
        const res = await request(`${objectPath('instances', ns, instance)}/log?${q.toString()}`, { signal: stop.signal });
        setState('following');
        for await (const text of lines(res, stop.signal)) pending.current.push({ n: n++, at: Date.now(), text });
        if (!stop.signal.aborted) setState('ended');
      } catch (e) {
        if (stop.signal.aborted) return;
        setState('error');
        setError(e instanceof ApiError ? e.message : String(e));
      }
    };
    void run();
    return () => {
      stop.abort();
      clearInterval(flush);
      pending.current = [];
    };
  }, [ns, instance, container, attempt, stamps, previous]);

  const shown = useMemo(() => {
    const s = search.trim().toLowerCase();
    return s ? buffer.lines.filter((l) => l.text.toLowerCase().includes(s)) : buffer.lines;
  }, [buffer.lines, search]);

  useEffect(() => {
    if (!paused && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [shown, paused]);

  const download = (): void => {
    const blob = new Blob([buffer.lines.map((l) => l.text).join('\n') + '\n'], { type: 'text/plain' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${instance}-${container}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  return (
    <Box>
      <Group mb="xs" gap="sm">
        {containers.length > 1 && <Select data={containers} value={container} onChange={(v) => v && setContainer(v)} w={160} aria-label="Container" />}
        <Badge color={state === 'following' ? 'green' : state === 'error' ? 'red' : 'gray'} variant="light" data-testid="log-state">
          {state}
        </Badge>
        <Button size="xs" variant="default" onClick={() => setPaused((p) => !p)} data-testid="log-pause">
          {paused ? 'Resume' : 'Pause'}
        </Button>
        <Switch size="sm" label="Timestamps" checked={stamps} onChange={(e) => setStamps(e.currentTarget.checked)} data-testid="log-timestamps" />
        <Switch size="sm" label="Arrival times" checked={times} onChange={(e) => setTimes(e.currentTarget.checked)} />
        <Switch size="sm" label="Previous run" checked={previous} onChange={(e) => setPrevious(e.currentTarget.checked)} data-testid="log-previous" />
        <TextInput size="xs" placeholder="Search" value={search} onChange={(e) => setSearch(e.currentTarget.value)} aria-label="Search the log" w={200} />
        <Button size="xs" variant="default" onClick={download}>
          Download
        </Button>
        {(state === 'ended' || state === 'error') && (
          <Button size="xs" onClick={() => setAttempt((a) => a + 1)}>
            Reconnect
          </Button>
        )}
      </Group>
      {error && <Alert color="red">{error}</Alert>}
      {buffer.dropped > 0 && (
        <Text size="xs" c="orange" data-testid="log-truncated">
          The buffer holds the last {MAX_LINES} lines: {buffer.dropped} older lines were dropped (Download saves what is held).
        </Text>
      )}
      <Box
        ref={box}
        data-testid="log"
        style={{ height: 420, overflow: 'auto', background: 'var(--mantine-color-dark-8)', color: 'var(--mantine-color-gray-2)', fontFamily: 'ui-monospace, Menlo, Consolas, monospace', fontSize: 12, padding: 8, borderRadius: 4, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
      >
        {shown.map((l) => (
          <div key={l.n} data-testid="log-line">
            {times && <span style={{ color: 'var(--mantine-color-gray-6)' }}>{new Date(l.at).toISOString().slice(11, 23)} </span>}
            {l.text}
          </div>
        ))}
      </Box>
    </Box>
  );
}
