// The live event stream, newest first, filtered by kind, type, reason and text.
import { Badge, Group, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMemo, useState } from 'react';
import { useLiveList } from '../api/live-list.js';
import { collection } from '../api/paths.js';
import { age, ErrorBox } from '../components/bits.js';
import type { GantryEvent } from '../model.js';
import { useNamespace } from '../namespace.js';

/** Events about one object (`involved` kind and name), or all; used on detail pages too. */
export function EventTable({ events, limit = 200 }: { events: GantryEvent[]; limit?: number }) {
  const sorted = useMemo(() => [...events].sort((a, b) => b.spec.lastTime.localeCompare(a.spec.lastTime)).slice(0, limit), [events, limit]);
  if (sorted.length === 0) return <Text c="dimmed">No events.</Text>;
  return (
    <Table verticalSpacing={4} data-testid="events">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Last</Table.Th>
          <Table.Th>Type</Table.Th>
          <Table.Th>Reason</Table.Th>
          <Table.Th>Object</Table.Th>
          <Table.Th>Message</Table.Th>
          <Table.Th>Count</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {sorted.map((e) => (
          <Table.Tr key={`${e.metadata.namespace}/${e.metadata.name}`}>
            <Table.Td>{age(e.spec.lastTime)}</Table.Td>
            <Table.Td>
              <Badge size="sm" color={e.spec.type === 'Warning' ? 'orange' : 'gray'} variant="light">
                {e.spec.type}
              </Badge>
            </Table.Td>
            <Table.Td>{e.spec.reason}</Table.Td>
            <Table.Td>
              {e.spec.involved.kind}/{e.spec.involved.name}
            </Table.Td>
            <Table.Td style={{ wordBreak: 'break-word' }}>{e.spec.message}</Table.Td>
            <Table.Td>{e.spec.count}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export function EventsPage() {
  const ns = useNamespace();
  const events = useLiveList<GantryEvent>(collection('events', ns));
  const [kind, setKind] = useState<string | null>(null);
  const [type, setType] = useState<string | null>(null);
  const [text, setText] = useState('');
  const kinds = useMemo(() => [...new Set(events.items.map((e) => e.spec.involved.kind))].sort(), [events.items]);
  const shown = useMemo(() => {
    const t = text.trim().toLowerCase();
    return events.items.filter(
      (e) =>
        (!kind || e.spec.involved.kind === kind) &&
        (!type || e.spec.type === type) &&
        (!t || e.spec.reason.toLowerCase().includes(t) || e.spec.message.toLowerCase().includes(t) || e.spec.involved.name.toLowerCase().includes(t)),
    );
  }, [events.items, kind, type, text]);
  return (
    <Stack>
      <Group justify="space-between">
        <Text fw={700} size="xl">
          Events
        </Text>
        <Group>
          <Select placeholder="Kind" data={kinds} value={kind} onChange={setKind} clearable w={160} aria-label="Kind" />
          <Select placeholder="Type" data={['Normal', 'Warning']} value={type} onChange={setType} clearable w={140} aria-label="Type" />
          <TextInput placeholder="Reason, object or message" value={text} onChange={(e) => setText(e.currentTarget.value)} w={260} aria-label="Search events" />
        </Group>
      </Group>
      <ErrorBox error={events.error} />
      <EventTable events={shown} />
    </Stack>
  );
}
