import { Badge, Button, Group, Stack, Table, Text, Tooltip } from '@mantine/core';
import { Link } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import { useCanI } from '../api/can-i.js';
import { sendJson, type ApiError } from '../api/http.js';
import { useLiveList } from '../api/live-list.js';
import { age, bytes, cores, ErrorBox, UsageBar } from '../components/bits.js';
import { holdsResources, isCordoned, type GantryNode, type Instance } from '../model.js';

export function NodeActions({ node }: { node: GantryNode }) {
  const may = useCanI('drain', 'node');
  const [error, setError] = useState<ApiError | Error | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const act = async (action: 'cordon' | 'uncordon' | 'drain'): Promise<void> => {
    if (action === 'drain' && !window.confirm(`Drain ${node.metadata.name}? Its instances move to other nodes.`)) return;
    setBusy(action);
    setError(undefined);
    try {
      await sendJson('POST', `/api/v1/nodes/${encodeURIComponent(node.metadata.name)}/${action}`, {});
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(undefined);
    }
  };
  const cordoned = isCordoned(node);
  return (
    <Stack gap={4}>
      <Group gap="xs">
        {(['cordon', 'uncordon', 'drain'] as const).map((a) => (
          <Tooltip key={a} label={may.reason} disabled={may.allowed}>
            <Button size="xs" variant={a === 'drain' ? 'light' : 'default'} color={a === 'drain' ? 'red' : undefined} loading={busy === a} disabled={!may.allowed || (a === 'uncordon' ? !cordoned : a === 'cordon' ? cordoned : node.spec.draining === true)} onClick={() => void act(a)} data-testid={`${a}-${node.metadata.name}`}>
              {a[0]!.toUpperCase() + a.slice(1)}
            </Button>
          </Tooltip>
        ))}
      </Group>
      <ErrorBox error={error} />
    </Stack>
  );
}

export function NodesPage() {
  const nodes = useLiveList<GantryNode>('/api/v1/nodes');
  const instances = useLiveList<Instance>('/api/v1/instances');
  const usage = useMemo(() => {
    const m = new Map<string, { cpu: number; memory: number; count: number }>();
    for (const i of instances.items) {
      if (!holdsResources(i) || !i.spec.node) continue;
      const u = m.get(i.spec.node) ?? { cpu: 0, memory: 0, count: 0 };
      u.cpu += i.spec.resources?.cpu ?? 0;
      u.memory += i.spec.resources?.memory ?? 0;
      u.count++;
      m.set(i.spec.node, u);
    }
    return m;
  }, [instances.items]);
  const sorted = useMemo(() => [...nodes.items].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)), [nodes.items]);
  return (
    <Stack>
      <Text fw={700} size="xl">
        Nodes
      </Text>
      <ErrorBox error={nodes.error} />
      <Table striped verticalSpacing="sm" data-testid="nodes">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th w="30%">Requests</Table.Th>
            <Table.Th>Conditions and labels</Table.Th>
            <Table.Th title="the last heartbeat written to the store (at most once a minute; less often in a cluster of thousands of nodes)">Heartbeat stored</Table.Th>
            <Table.Th>Actions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {sorted.map((n) => {
            const u = usage.get(n.metadata.name) ?? { cpu: 0, memory: 0, count: 0 };
            return (
              <Table.Tr key={n.metadata.name} data-testid={`node-row-${n.metadata.name}`}>
                <Table.Td style={{ whiteSpace: 'nowrap' }}>
                  <Link className="gantry-link" to="/nodes/$name" params={{ name: n.metadata.name }}>
                    {n.metadata.name}
                  </Link>
                  <Text size="xs" c="dimmed">
                    {u.count} instances
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    <Badge color={n.status?.ready ? 'green' : 'red'} variant="light">
                      {n.status?.ready ? 'Ready' : 'Not ready'}
                    </Badge>
                    {n.spec.draining ? (
                      <Badge color="red" variant="light" data-testid="draining">
                        Draining
                      </Badge>
                    ) : n.spec.unschedulable ? (
                      <Badge color="orange" variant="light" data-testid="cordoned">
                        Cordoned
                      </Badge>
                    ) : null}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Stack gap={4}>
                    <UsageBar label="CPU" requested={u.cpu} used={n.status?.usage?.cpu} capacity={n.status?.capacity.cpu ?? 0} format={cores} />
                    <UsageBar label="Memory" requested={u.memory} used={n.status?.usage?.memory} capacity={n.status?.capacity.memory ?? 0} format={bytes} />
                  </Stack>
                </Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {(n.status?.conditions ?? []).map((c) => {
                      // Pressure conditions are bad when True; the others (Ready, DockerReachable ...) when not True.
                      const bad = c.type.endsWith('Pressure') ? c.status === 'True' : c.status !== 'True';
                      if (c.type.endsWith('Pressure') && !bad) return null;
                      return (
                        <Badge key={c.type} size="xs" color={bad ? 'red' : 'gray'} title={c.message}>
                          {bad && !c.type.endsWith('Pressure') ? `not ${c.type}` : c.type}
                        </Badge>
                      );
                    })}
                    {Object.entries(n.metadata.labels ?? {}).map(([k, v]) => (
                      <Badge key={k} size="xs" variant="outline">
                        {k}={v}
                      </Badge>
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td>{age(n.status?.lastHeartbeat)}</Table.Td>
                <Table.Td>
                  <NodeActions node={n} />
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
