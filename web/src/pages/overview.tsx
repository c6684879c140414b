import { Badge, Card, Group, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { Link } from '@tanstack/react-router';
import { useMemo } from 'react';
import { useLiveList } from '../api/live-list.js';
import { collection } from '../api/paths.js';
import { age, bytes, cores, ErrorBox, Section, UsageBar } from '../components/bits.js';
import { holdsResources, isCordoned, serviceState, type GantryEvent, type GantryNode, type Instance, type Service } from '../model.js';
import { useNamespace } from '../namespace.js';

function Stat({ label, value, color }: { label: string; value: number | string; color?: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} c={color}>
        {value}
      </Text>
    </Card>
  );
}

export function Overview() {
  const ns = useNamespace();
  const nodes = useLiveList<GantryNode>('/api/v1/nodes');
  const instances = useLiveList<Instance>(collection('instances', ns));
  const services = useLiveList<Service>(collection('services', ns));
  const events = useLiveList<GantryEvent>(collection('events', ns));

  const n = useMemo(() => {
    const ready = nodes.items.filter((x) => x.status?.ready === true).length;
    const cordoned = nodes.items.filter(isCordoned).length;
    let cpu = 0;
    let memory = 0;
    // What the nodes' containers use (every namespace): each agent writes its totals at most once a minute.
    let usedCpu: number | undefined;
    let usedMemory: number | undefined;
    for (const x of nodes.items) {
      cpu += x.status?.capacity.cpu ?? 0;
      memory += x.status?.capacity.memory ?? 0;
      if (x.status?.usage) {
        usedCpu = (usedCpu ?? 0) + x.status.usage.cpu;
        usedMemory = (usedMemory ?? 0) + x.status.usage.memory;
      }
    }
    return { ready, notReady: nodes.items.length - ready, cordoned, cpu, memory, usedCpu, usedMemory };
  }, [nodes.items]);
  const use = useMemo(() => {
    let cpu = 0;
    let memory = 0;
    const phases = new Map<string, number>();
    for (const i of instances.items) {
      const p = i.status?.phase ?? 'Pending';
      phases.set(p, (phases.get(p) ?? 0) + 1);
      if (holdsResources(i)) {
        cpu += i.spec.resources?.cpu ?? 0;
        memory += i.spec.resources?.memory ?? 0;
      }
    }
    return { cpu, memory, phases: [...phases].sort((a, b) => a[0].localeCompare(b[0])) };
  }, [instances.items]);
  const short = useMemo(() => services.items.filter((s) => serviceState(s).ready !== serviceState(s).desired).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)), [services.items]);
  const warnings = useMemo(
    () =>
      events.items
        .filter((e) => e.spec.type === 'Warning')
        .sort((a, b) => b.spec.lastTime.localeCompare(a.spec.lastTime))
        .slice(0, 10),
    [events.items],
  );

  return (
    <Stack>
      <ErrorBox error={nodes.error ?? instances.error ?? services.error} />
      <SimpleGrid cols={{ base: 2, md: 5 }}>
        <Stat label="Nodes ready" value={n.ready} color="green" />
        <Stat label="Nodes not ready" value={n.notReady} color={n.notReady > 0 ? 'red' : undefined} />
        <Stat label="Nodes cordoned" value={n.cordoned} color={n.cordoned > 0 ? 'orange' : undefined} />
        <Stat label="Services" value={services.items.length} />
        <Stat label="Instances" value={instances.items.length} />
      </SimpleGrid>
      <Section title={`Capacity (${ns === '*' ? 'all namespaces' : `requests in ${ns}`})`}>
        <Stack gap="xs">
          <UsageBar label="CPU" requested={use.cpu} used={ns === '*' ? n.usedCpu : undefined} capacity={n.cpu} format={cores} />
          <UsageBar label="Memory" requested={use.memory} used={ns === '*' ? n.usedMemory : undefined} capacity={n.memory} format={bytes} />
        </Stack>
      </Section>
      <Section title="Instances by phase">
        <Group data-testid="phases">
          {use.phases.length === 0 && <Text c="dimmed">No instances.</Text>}
          {use.phases.map(([p, c]) => (
            <Badge key={p} size="lg" variant="light" color={p === 'Running' ? 'green' : p === 'Failed' || p === 'Lost' ? 'red' : 'blue'}>
              {p}: {c}
            </Badge>
          ))}
        </Group>
      </Section>
      <Section title="Services not at their replica count">
        {short.length === 0 ? (
          <Text c="dimmed">{services.loaded ? 'Every service has its replicas.' : 'Loading...'}</Text>
        ) : (
          <Table>
            <Table.Tbody>
              {short.map((s) => (
                <Table.Tr key={`${s.metadata.namespace}/${s.metadata.name}`}>
                  <Table.Td>
                    <Link className="gantry-link" to="/services/$ns/$name" params={{ ns: s.metadata.namespace ?? 'default', name: s.metadata.name }}>
                      {s.metadata.name}
                    </Link>
                  </Table.Td>
                  <Table.Td>
                    {serviceState(s).ready}/{serviceState(s).desired} ready
                  </Table.Td>
                  <Table.Td>{serviceState(s).rollout}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Section>
      <Section title="Latest warnings">
        {warnings.length === 0 ? (
          <Text c="dimmed">No warnings.</Text>
        ) : (
          <Table>
            <Table.Tbody>
              {warnings.map((e) => (
                <Table.Tr key={`${e.metadata.namespace}/${e.metadata.name}`}>
                  <Table.Td>{age(e.spec.lastTime)}</Table.Td>
                  <Table.Td>
                    {e.spec.involved.kind}/{e.spec.involved.name}
                  </Table.Td>
                  <Table.Td>{e.spec.reason}</Table.Td>
                  <Table.Td>{e.spec.message}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Section>
    </Stack>
  );
}
