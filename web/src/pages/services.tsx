// The services list: live, filtered and sorted in the browser, virtualized (only the rows in view
// are in the DOM), so 5,000 services scroll as smoothly as 5.
import { Badge, Box, Button, Group, Stack, Text, TextInput, UnstyledButton } from '@mantine/core';
import { Link } from '@tanstack/react-router';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState, type ReactNode } from 'react';
import { useCanI } from '../api/can-i.js';
import { useLiveList } from '../api/live-list.js';
import { collection } from '../api/paths.js';
import { age, ErrorBox } from '../components/bits.js';
import { exposedAt, serviceState, type Service } from '../model.js';
import { useNamespace } from '../namespace.js';

type SortKey = 'name' | 'namespace' | 'ready' | 'version' | 'rollout' | 'age';
const COLUMNS: { key: SortKey | 'lb'; label: string; width: string }[] = [
  { key: 'name', label: 'Name', width: '24%' },
  { key: 'namespace', label: 'Namespace', width: '14%' },
  { key: 'ready', label: 'Ready', width: '10%' },
  { key: 'version', label: 'Version', width: '9%' },
  { key: 'rollout', label: 'Rollout', width: '14%' },
  { key: 'lb', label: 'Load balancer', width: '19%' },
  { key: 'age', label: 'Age', width: '10%' },
];
const ROW = 38;

function compare(a: Service, b: Service, key: SortKey): number {
  switch (key) {
    case 'name':
      return a.metadata.name.localeCompare(b.metadata.name);
    case 'namespace':
      return (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name);
    case 'ready': {
      const x = serviceState(a);
      const y = serviceState(b);
      return x.ready / Math.max(1, x.desired) - y.ready / Math.max(1, y.desired);
    }
    case 'version':
      return (serviceState(a).version ?? 0) - (serviceState(b).version ?? 0);
    case 'rollout':
      return serviceState(a).rollout.localeCompare(serviceState(b).rollout);
    case 'age':
      return b.metadata.createdAt.localeCompare(a.metadata.createdAt);
  }
}

export function ServicesPage() {
  const ns = useNamespace();
  const services = useLiveList<Service>(collection('services', ns));
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'name', desc: false });
  const canApply = useCanI('apply', 'service', ns === '*' ? 'default' : ns);
  const rows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const shown = f ? services.items.filter((s) => s.metadata.name.toLowerCase().includes(f) || (s.metadata.namespace ?? '').includes(f) || s.spec.containers.some((c) => c.image.toLowerCase().includes(f))) : [...services.items];
    shown.sort((a, b) => (sort.desc ? -1 : 1) * compare(a, b, sort.key));
    return shown;
  }, [services.items, filter, sort]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 12 });

  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Text fw={700} size="xl">
            Services
          </Text>
          <Badge variant="light" data-testid="service-count">
            {rows.length} of {services.items.length}
          </Badge>
        </Group>
        <Group>
          <TextInput placeholder="Filter by name, namespace or image" value={filter} onChange={(e) => setFilter(e.currentTarget.value)} w={300} aria-label="Filter services" />
          <Button component={Link} to="/services/new" disabled={!canApply.allowed} title={canApply.allowed ? undefined : canApply.reason}>
            Deploy a service
          </Button>
        </Group>
      </Group>
      {!canApply.allowed && (
        <Text size="sm" c="dimmed">
          Deploying is off: {canApply.reason}
        </Text>
      )}
      <ErrorBox error={services.error} />
      <Box role="table" aria-label="Services" style={{ border: '1px solid var(--mantine-color-default-border)', borderRadius: 4 }}>
        <Box role="row" style={{ display: 'flex', borderBottom: '1px solid var(--mantine-color-default-border)', background: 'var(--mantine-color-default-hover)' }}>
          {COLUMNS.map((c) => (
            <Box role="columnheader" key={c.key} style={{ width: c.width, padding: '8px 10px' }}>
              {c.key === 'lb' ? (
                <Text size="sm" fw={600}>
                  {c.label}
                </Text>
              ) : (
                <UnstyledButton onClick={() => setSort((s) => ({ key: c.key as SortKey, desc: s.key === c.key ? !s.desc : false }))} aria-label={`Sort by ${c.label}`}>
                  <Text size="sm" fw={600}>
                    {c.label} {sort.key === c.key ? (sort.desc ? '▼' : '▲') : ''}
                  </Text>
                </UnstyledButton>
              )}
            </Box>
          ))}
        </Box>
        <div ref={scroller} style={{ height: 'calc(100vh - 260px)', minHeight: 240, overflow: 'auto' }} data-testid="services-scroller">
          {services.loaded && rows.length === 0 && (
            <Text c="dimmed" p="md">
              {services.items.length === 0 ? 'No services yet.' : 'No service matches the filter.'}
            </Text>
          )}
          <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
            {virtual.getVirtualItems().map((v) => {
              const s = rows[v.index]!;
              const st = serviceState(s);
              return (
                <div
                  role="row"
                  key={`${s.metadata.namespace}/${s.metadata.name}`}
                  data-testid={`service-row-${s.metadata.name}`}
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, height: ROW, transform: `translateY(${v.start}px)`, display: 'flex', alignItems: 'center', borderBottom: '1px solid var(--mantine-color-default-border)' }}
                >
                  <Cell w={COLUMNS[0]!.width}>
                    <Link className="gantry-link" to="/services/$ns/$name" params={{ ns: s.metadata.namespace ?? 'default', name: s.metadata.name }}>
                      {s.metadata.name}
                    </Link>
                  </Cell>
                  <Cell w={COLUMNS[1]!.width}>{s.metadata.namespace}</Cell>
                  <Cell w={COLUMNS[2]!.width}>
                    <Text size="sm" c={st.ready === st.desired ? 'green' : 'orange'} data-testid="ready">
                      {st.ready}/{st.desired}
                    </Text>
                  </Cell>
                  <Cell w={COLUMNS[3]!.width}>{st.version !== undefined ? `v${st.version}` : ''}</Cell>
                  <Cell w={COLUMNS[4]!.width}>{st.rollout}</Cell>
                  <Cell w={COLUMNS[5]!.width}>{exposedAt(s)}</Cell>
                  <Cell w={COLUMNS[6]!.width}>{age(s.metadata.createdAt)}</Cell>
                </div>
              );
            })}
          </div>
        </div>
      </Box>
    </Stack>
  );
}

function Cell({ w, children }: { w: string; children: ReactNode }) {
  return (
    <Box role="cell" style={{ width: w, padding: '0 10px', overflow: 'hidden', whiteSpace: 'nowrap', textOverflow: 'ellipsis', fontSize: 14 }}>
      {children}
    </Box>
  );
}
