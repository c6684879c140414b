// Every instance of the namespace, live: listed in pages of 1,000 (the server keeps one snapshot
// between pages, docs/api.md), then watched. Service and node filters go to the server (its
// indexes, `fieldSelector=spec.service=...`), so 20,000 instances never all cross the wire for a
// filtered view; phase and name filter here. Virtualized: only the rows in view are in the DOM.
import { Badge, Box, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useNavigate } from '@tanstack/react-router';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useDeferredValue, useMemo, useRef, useState, type CSSProperties } from 'react';
import { useLiveList } from '../api/live-list.js';
import { collection } from '../api/paths.js';
import { age, ErrorBox } from '../components/bits.js';
import type { Instance } from '../model.js';
import { useNamespace } from '../namespace.js';

const PAGE = 1000;
const ROW = 34;
const PHASES = ['Pending', 'Starting', 'Running', 'Succeeded', 'Failed', 'Lost'];
const COLUMNS = [
  { label: 'Name', width: '26%' },
  { label: 'Namespace', width: '12%' },
  { label: 'Service', width: '16%' },
  { label: 'Node', width: '16%' },
  { label: 'Phase', width: '12%' },
  { label: 'Restarts', width: '8%' },
  { label: 'Age', width: '10%' },
];
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The server-side selector for the filters that have an index; invalid names select nothing rather than err. */
function selectorOf(service: string, node: string): string {
  const terms: string[] = [];
  if (service && NAME.test(service)) terms.push(`spec.service=${service}`);
  if (node && NAME.test(node)) terms.push(`spec.node=${node}`);
  return terms.length > 0 ? `fieldSelector=${encodeURIComponent(terms.join(','))}` : '';
}

export function InstancesPage() {
  const ns = useNamespace();
  const [service, setService] = useState('');
  const [node, setNode] = useState('');
  const [phase, setPhase] = useState<string | null>(null);
  const [name, setName] = useState('');
  // Typing in a filter field never waits for a list of thousands to filter.
  const query = useDeferredValue(selectorOf(service.trim(), node.trim()));
  const nameFilter = useDeferredValue(name.trim().toLowerCase());
  const instances = useLiveList<Instance>(collection('instances', ns), query, PAGE);
  const rows = useMemo(() => {
    const shown = instances.items.filter((i) => (phase === null || i.status?.phase === phase) && (!nameFilter || i.metadata.name.includes(nameFilter)));
    shown.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
    return shown;
  }, [instances.items, phase, nameFilter]);
  const navigate = useNavigate();
  const open = useCallback((ns: string, name: string) => void navigate({ to: '/instances/$ns/$name', params: { ns, name } }), [navigate]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 12 });

  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Text fw={700} size="xl">
            Instances
          </Text>
          <Badge variant="light" data-testid="instance-count">
            {rows.length} of {instances.items.length}
          </Badge>
        </Group>
        <Group>
          <TextInput placeholder="Name contains" value={name} onChange={(e) => setName(e.currentTarget.value)} w={170} aria-label="Filter by name" />
          <TextInput placeholder="Service" value={service} onChange={(e) => setService(e.currentTarget.value)} w={150} aria-label="Filter by service" data-testid="filter-service" />
          <TextInput placeholder="Node" value={node} onChange={(e) => setNode(e.currentTarget.value)} w={150} aria-label="Filter by node" data-testid="filter-node" />
          <Select placeholder="Any phase" data={PHASES} value={phase} onChange={setPhase} clearable w={140} aria-label="Filter by phase" data-testid="filter-phase" />
        </Group>
      </Group>
      <ErrorBox error={instances.error} />
      <Box role="table" aria-label="Instances" style={{ border: '1px solid var(--mantine-color-default-border)', borderRadius: 4 }}>
        <Box role="row" style={{ display: 'flex', borderBottom: '1px solid var(--mantine-color-default-border)', background: 'var(--mantine-color-default-hover)' }}>
          {COLUMNS.map((c) => (
            <Box role="columnheader" key={c.label} style={{ width: c.width, padding: '8px 10px' }}>
              <Text size="sm" fw={600}>
                {c.label}
              </Text>
            </Box>
          ))}
        </Box>
        <div ref={scroller} style={{ height: 'calc(100vh - 240px)', minHeight: 240, overflow: 'auto' }} data-testid="instances-scroller">
          {instances.loaded && !instances.error && rows.length === 0 && (
            <Text c="dimmed" p="md">
              {instances.items.length === 0 ? 'No instances here.' : 'No instance matches the filters.'}
            </Text>
          )}
          <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
            {virtual.getVirtualItems().map((v) => {
              const i = rows[v.index]!;
              return <InstanceRow key={`${i.metadata.namespace}/${i.metadata.name}`} instance={i} top={v.start} open={open} />;
            })}
          </div>
        </div>
      </Box>
    </Stack>
  );
}

const ROW_STYLE: CSSProperties = { position: 'absolute', top: 0, left: 0, right: 0, height: ROW, display: 'flex', alignItems: 'center', borderBottom: '1px solid var(--mantine-color-default-border)', fontSize: 14 };
const CELL_STYLES: CSSProperties[] = COLUMNS.map((c) => ({ width: c.width, padding: '0 10px', overflow: 'hidden', whiteSpace: 'nowrap', textOverflow: 'ellipsis' }));
const PHASE_COLOR: Record<string, string> = { Running: 'green', Failed: 'red', Lost: 'red', Succeeded: 'gray' };

/** One row of plain elements (cheap to bring into view); renders again only when its instance changed. */
const InstanceRow = memo(function InstanceRow({ instance: i, top, open }: { instance: Instance; top: number; open: (ns: string, name: string) => void }) {
  const ns = i.metadata.namespace ?? 'default';
  const phase = i.status?.phase ?? 'Pending';
  const restarts = (i.status?.containers ?? []).reduce((n, c) => n + c.restartCount, 0);
  return (
    <div role="row" data-testid={`instance-row-${i.metadata.name}`} style={{ ...ROW_STYLE, transform: `translateY(${top}px)` }}>
      <div role="cell" style={CELL_STYLES[0]}>
        <a
          className="gantry-link"
          href={`/instances/${encodeURIComponent(ns)}/${encodeURIComponent(i.metadata.name)}`}
          onClick={(e) => {
            if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
            e.preventDefault();
            open(ns, i.metadata.name);
          }}
        >
          {i.metadata.name}
        </a>
      </div>
      <div role="cell" style={CELL_STYLES[1]}>
        {ns}
      </div>
      <div role="cell" style={CELL_STYLES[2]}>
        {i.spec.service}
      </div>
      <div role="cell" style={CELL_STYLES[3]}>
        {i.spec.node ?? ''}
      </div>
      <div role="cell" style={{ ...CELL_STYLES[4], color: `var(--mantine-color-${PHASE_COLOR[phase] ?? 'blue'}-7)` }} data-testid="phase">
        {phase}
        {phase === 'Running' && i.status?.ready === false ? ' (not ready)' : ''}
      </div>
      <div role="cell" style={CELL_STYLES[5]}>
        {restarts}
      </div>
      <div role="cell" style={CELL_STYLES[6]}>
        {age(i.metadata.createdAt)}
      </div>
    </div>
  );
});
