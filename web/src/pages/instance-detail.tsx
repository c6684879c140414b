import { Badge, Group, Stack, Table, Tabs, Text, Title } from '@mantine/core';
import { Link } from '@tanstack/react-router';
import { usePathParams } from '../path-params.js';
import { lazy, Suspense, useMemo } from 'react';
import { useLiveList } from '../api/live-list.js';
import { collection } from '../api/paths.js';
import { age, ErrorBox, Phase } from '../components/bits.js';
import { LogView } from '../components/log-view.js';
import type { GantryEvent, Instance } from '../model.js';
import { EventTable } from './events.js';

// xterm loads only when the Terminal tab opens.
// uPlot loads only when the Usage tab opens.
const UsageCharts = lazy(() => import('../components/usage-charts.js').then((m) => ({ default: m.UsageCharts })));
const ExecTerminal = lazy(() => import('../components/terminal.js').then((m) => ({ default: m.ExecTerminal })));

export function InstanceDetail() {
  const { ns, name } = usePathParams('ns', 'name');
  const list = useLiveList<Instance>(collection('instances', ns));
  const instance = list.items.find((i) => i.metadata.name === name);
  const events = useLiveList<GantryEvent>(collection('events', ns));
  const mine = useMemo(() => events.items.filter((e) => e.spec.involved.kind === 'Instance' && e.spec.involved.name === name), [events.items, name]);
  if (list.loaded && !instance) return <ErrorBox error={list.error ?? new Error(`instance ${name} not found in namespace ${ns}`)} title="Not found" />;
  if (!instance) return <Text c="dimmed">Loading...</Text>;
  const containers = [...(instance.spec.initContainers ?? []), ...instance.spec.containers].map((c) => c.name);
  return (
    <Stack>
      <Group>
        <Title order={2}>{name}</Title>
        <Phase phase={instance.status?.phase} ready={instance.status?.ready} />
      </Group>
      <Text size="sm" c="dimmed">
        service{' '}
        <Link className="gantry-link" to="/services/$ns/$name" params={{ ns, name: instance.spec.service }}>
          {instance.spec.service}
        </Link>{' '}
        · node {instance.spec.node ?? 'unplaced'} · {instance.status?.hostIP ?? ''} · created {age(instance.metadata.createdAt)} ago
        {instance.status?.message ? ` · ${instance.status.message}` : ''}
      </Text>
      <Table data-testid="containers">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Container</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Restarts</Table.Th>
            <Table.Th>Ports</Table.Th>
            <Table.Th>Started</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(instance.status?.containers ?? []).map((c) => (
            <Table.Tr key={c.name}>
              <Table.Td>{c.name}</Table.Td>
              <Table.Td>
                <Badge variant="light" color={c.state === 'running' ? 'green' : c.state === 'exited' ? 'gray' : 'blue'}>
                  {c.state}
                  {c.exitCode !== undefined ? ` (${c.exitCode})` : ''}
                </Badge>
              </Table.Td>
              <Table.Td>{c.restartCount}</Table.Td>
              <Table.Td>
                {Object.entries(c.hostPorts)
                  .map(([p, h]) => `${p}→${h}`)
                  .join(', ')}
              </Table.Td>
              <Table.Td>{age(c.startedAt)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Tabs defaultValue="logs" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="logs">Logs</Tabs.Tab>
          <Tabs.Tab value="usage" data-testid="usage-tab">
            Usage
          </Tabs.Tab>
          <Tabs.Tab value="terminal" data-testid="terminal-tab">
            Terminal
          </Tabs.Tab>
          <Tabs.Tab value="events">Events ({mine.length})</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="logs" pt="md">
          <LogView ns={ns} instance={name} containers={containers} />
        </Tabs.Panel>
        <Tabs.Panel value="usage" pt="md">
          <Suspense fallback={<Text c="dimmed">Loading the charts...</Text>}>
            <UsageCharts ns={ns} instance={name} />
          </Suspense>
        </Tabs.Panel>
        <Tabs.Panel value="terminal" pt="md">
          <Suspense fallback={<Text c="dimmed">Loading the terminal...</Text>}>
            <ExecTerminal ns={ns} instance={name} containers={instance.spec.containers.map((c) => c.name)} />
          </Suspense>
        </Tabs.Panel>
        <Tabs.Panel value="events" pt="md">
          <EventTable events={mine} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
