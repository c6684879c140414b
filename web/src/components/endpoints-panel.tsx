// A service's endpoints (the instances that serve, from the discovery catalog) and what the load
// balancer does for its spec.expose: frontends, state and servers. Polled while the tab is open.
import { Badge, Stack, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { EndpointSet, LoadBalancerStatus } from '../../../src/core/index.js';
import { getJson } from '../api/http.js';
import { objectPath } from '../api/paths.js';
import { ErrorBox, Section } from './bits.js';

const STATE_COLOR: Record<string, string> = { Serving: 'green', Pending: 'blue', Conflict: 'orange', Failed: 'red', Off: 'gray' };

export function EndpointsPanel({ ns, name }: { ns: string; name: string }) {
  const endpoints = useQuery({ queryKey: ['endpoints', ns, name], queryFn: () => getJson<EndpointSet>(`/api/v1/namespaces/${encodeURIComponent(ns)}/endpoints/${encodeURIComponent(name)}`), refetchInterval: 2000 });
  const lb = useQuery({ queryKey: ['loadbalancer', ns, name], queryFn: () => getJson<LoadBalancerStatus>(`${objectPath('services', ns, name)}/loadbalancer`), refetchInterval: 2000 });
  return (
    <Stack>
      <Section title={`Endpoints (${endpoints.data?.endpoints.length ?? 0})`}>
        <ErrorBox error={endpoints.error ?? undefined} />
        {endpoints.data && endpoints.data.endpoints.length === 0 && <Text c="dimmed">No instance serves yet (only running instances that pass their health checks are endpoints).</Text>}
        {endpoints.data && endpoints.data.endpoints.length > 0 && (
          <Table striped data-testid="endpoints">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Instance</Table.Th>
                <Table.Th>Node</Table.Th>
                <Table.Th>Port</Table.Th>
                <Table.Th>Address</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {endpoints.data.endpoints.map((e) => (
                <Table.Tr key={`${e.instance}/${e.port}`}>
                  <Table.Td>{e.instance}</Table.Td>
                  <Table.Td>{e.node}</Table.Td>
                  <Table.Td>
                    {e.port} ({e.containerPort}/{e.protocol})
                  </Table.Td>
                  <Table.Td>
                    {e.address}:{e.hostPort}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Section>
      <Section title="Load balancer">
        <ErrorBox error={lb.error ?? undefined} />
        {lb.data && !lb.data.enabled && <Text c="dimmed">{lb.data.message ?? 'This server runs no load balancer.'}</Text>}
        {lb.data?.enabled && lb.data.entries.length === 0 && <Text c="dimmed">The service exposes nothing (spec.expose is empty).</Text>}
        {lb.data?.enabled &&
          lb.data.entries.map((entry) => (
            <Stack key={`${entry.port}/${entry.servicePort ?? entry.hostname ?? ''}`} gap={4} data-testid="lb-entry">
              <Text>
                <Badge color={STATE_COLOR[entry.state] ?? 'gray'} variant="light" mr="xs">
                  {entry.state}
                </Badge>
                port {entry.port} ({entry.mode}) at {entry.frontends.join(', ')}
              </Text>
              {entry.message && (
                <Text size="sm" c="dimmed">
                  {entry.message}
                </Text>
              )}
              <Text size="sm">{entry.servers.map((s) => `${s.instance} ${s.address}:${s.port} ${s.state}`).join(' · ') || 'no servers'}</Text>
            </Stack>
          ))}
      </Section>
    </Stack>
  );
}
