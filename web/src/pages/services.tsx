// The services list: live, filtered and sorted in the browser, virtualized (only the rows in view
// are in the DOM), so 5,000 services scroll as smoothly as 5.
import { Badge, Box, Button, Group, Stack, Text, TextInput, UnstyledButton } from '@mantine/core';
import { Link, useNavigate } from '@tanstack/react-router';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useMemo, useRef, useState, type CSSProperties } from 'react';
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
  const navigate = useNavigate();
  const open = useCallback((ns: string, name: string) => void navigate({ to: '/services/$ns/$name', params: { ns, name } }), [navigate]);
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
          {services.loaded && !services.error && rows.length === 0 && (
            <Text c="dimmed" p="md">
              {services.items.length === 0 ? 'No services yet.' : 'No service matches the filter.'}
            </Text>
          )}
          <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
            {virtual.getVirtualItems().map((v) => {
              const s = rows[v.index]!;
              return <ServiceRow key={`${s.metadata.namespace}/${s.metadata.name}`} service={s} top={v.start} open={open} />;
            })}
          </div>
        </div>
      </Box>
    </Stack>
  );
}

const ROW_STYLE: CSSProperties = { position: 'absolute', top: 0, left: 0, right: 0, height: ROW, display: 'flex', alignItems: 'center', borderBottom: '1px solid var(--mantine-color-default-border)', fontSize: 14 };
const CELL_STYLES: CSSProperties[] = COLUMNS.map((c) => ({ width: c.width, padding: '0 10px', overflow: 'hidden', whiteSpace: 'nowrap', textOverflow: 'ellipsis' }));

/**
 * One row: plain elements (no UI-kit components, no router Link subscribing to the location), so
 * a scroll that brings fifty rows in costs little. A row renders again only when its service changed.
 */
const ServiceRow = memo(function ServiceRow({ service: s, top, open }: { service: Service; top: number; open: (ns: string, name: string) => void }) {
  const st = serviceState(s);
  const ns = s.metadata.namespace ?? 'default';
  const href = `/services/${encodeURIComponent(ns)}/${encodeURIComponent(s.metadata.name)}`;
  return (
    <div role="row" data-testid={`service-row-${s.metadata.name}`} style={{ ...ROW_STYLE, transform: `translateY(${top}px)` }}>
      <div role="cell" style={CELL_STYLES[0]}>
        <a
          className="gantry-link"
          href={href}
          onClick={(e) => {
            if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
            e.preventDefault();
            open(ns, s.metadata.name);
          }}
        >
          {s.metadata.name}
        </a>
      </div>
      <div role="cell" style={CELL_STYLES[1]}>
        {s.metadata.namespace}
      </div>
      <div role="cell" style={CELL_STYLES[2]}>
        <span data-testid="ready" style={{ color: st.ready === st.desired ? 'var(--mantine-color-green-7)' : 'var(--mantine-color-orange-7)' }}>
          {st.ready}/{st.desired}
        </span>
      </div>
      <div role="cell" style={CELL_STYLES[3]}>
        {st.version !== undefined ? `v${st.version}` : ''}
      </div>
      <div role="cell" style={CELL_STYLES[4]}>
        {st.rollout}
      </div>
      <div role="cell" style={CELL_STYLES[5]}>
        {exposedAt(s)}
      </div>
      <div role="cell" style={CELL_STYLES[6]}>
        {age(s.metadata.createdAt)}
      </div>
    </div>
  );
});
