import { Badge, Group, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from '@tanstack/react-router';
import { usePathParams } from '../path-params.js';
import { useLiveList } from '../api/live-list.js';
import { age, ErrorBox, Phase, Section } from '../components/bits.js';
import type { GantryNode, Instance } from '../model.js';
import { NodeActions } from './nodes.js';

export function NodeDetail() {
  const { name } = usePathParams('name');
  const nodes = useLiveList<GantryNode>('/api/v1/nodes');
  const node = nodes.items.find((n) => n.metadata.name === name);
  const instances = useLiveList<Instance>('/api/v1/instances', `fieldSelector=${encodeURIComponent(`spec.node=${name}`)}`);
  if (nodes.loaded && !node) return <ErrorBox error={nodes.error ?? new Error(`node ${name} not found`)} title="Not found" />;
  if (!node) return <Text c="dimmed">Loading...</Text>;
  return (
    <Stack>
      <Group>
        <Title order={2}>{name}</Title>
        <Badge color={node.status?.ready ? 'green' : 'red'}>{node.status?.ready ? 'Ready' : 'Not ready'}</Badge>
        {node.spec.draining ? <Badge color="red">Draining</Badge> : node.spec.unschedulable ? <Badge color="orange">Cordoned</Badge> : null}
      </Group>
      <NodeActions node={node} />
      <Section title="Conditions">
        <Table>
          <Table.Tbody>
            {(node.status?.conditions ?? []).map((c) => (
              <Table.Tr key={c.type}>
                <Table.Td>{c.type}</Table.Td>
                <Table.Td>{c.status}</Table.Td>
                <Table.Td>{c.reason}</Table.Td>
                <Table.Td>{c.message}</Table.Td>
                <Table.Td>{age(c.lastTransitionTime)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Section>
      <Section title={`Instances (${instances.items.length})`}>
        <Table>
          <Table.Tbody>
            {instances.items.map((i) => (
              <Table.Tr key={`${i.metadata.namespace}/${i.metadata.name}`}>
                <Table.Td>
                  <Link className="gantry-link" to="/instances/$ns/$name" params={{ ns: i.metadata.namespace ?? 'default', name: i.metadata.name }}>
                    {i.metadata.namespace}/{i.metadata.name}
                  </Link>
                </Table.Td>
                <Table.Td>
                  <Phase phase={i.status?.phase} ready={i.status?.ready} />
                </Table.Td>
                <Table.Td>{age(i.metadata.createdAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Section>
    </Stack>
  );
}
