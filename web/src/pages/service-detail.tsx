import { Alert, Badge, Button, Group, NumberInput, Progress, Stack, Table, Tabs, Text, Title, Tooltip } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { usePathParams } from '../path-params.js';
import { useMemo, useState } from 'react';
import type { RolloutView, StatsList } from '../../../src/core/index.js';
import { useCanI } from '../api/can-i.js';
import { getJson, sendJson } from '../api/http.js';
import { useLiveList } from '../api/live-list.js';
import { collection, objectPath } from '../api/paths.js';
import { age, bytes, ErrorBox, Phase, Section } from '../components/bits.js';
import { EndpointsPanel } from '../components/endpoints-panel.js';
import { SpecEditor } from '../components/spec-editor.js';
import { exposedAt, serviceState, type GantryEvent, type Instance, type Service } from '../model.js';
import { EventTable } from './events.js';

function restarts(i: Instance): number {
  return (i.status?.containers ?? []).reduce((n, c) => n + c.restartCount, 0);
}

function ports(i: Instance): string {
  return (i.status?.containers ?? []).flatMap((c) => Object.entries(c.hostPorts).map(([name, port]) => `${name}→${i.status?.hostIP ?? ''}:${port}`)).join(', ');
}

export function ServiceDetail() {
  const { ns, name } = usePathParams('ns', 'name');
  const navigate = useNavigate();
  const services = useLiveList<Service>(collection('services', ns));
  const service = services.items.find((s) => s.metadata.name === name);
  const instances = useLiveList<Instance>(collection('instances', ns), `fieldSelector=${encodeURIComponent(`spec.service=${name}`)}`);
  const events = useLiveList<GantryEvent>(collection('events', ns));
  const rollout = useQuery({
    queryKey: ['rollout', ns, name, service?.metadata.revision],
    queryFn: () => getJson<RolloutView>(`${objectPath('services', ns, name)}/rollout`),
    enabled: service !== undefined,
  });
  const canEdit = useCanI('apply', 'service', ns);
  const canScale = useCanI('scale', 'service', ns);
  const canRollout = useCanI('rollout', 'service', ns);
  const canDelete = useCanI('delete', 'service', ns);
  const [replicas, setReplicas] = useState<number | string>('');
  const [actionError, setActionError] = useState<Error | undefined>(undefined);
  const [message, setMessage] = useState<string | undefined>(undefined);

  const mine = useMemo(() => {
    const names = new Set(instances.items.map((i) => i.metadata.name));
    return events.items.filter((e) => (e.spec.involved.kind === 'Service' && e.spec.involved.name === name) || (e.spec.involved.kind === 'Instance' && names.has(e.spec.involved.name)));
  }, [events.items, instances.items, name]);
  const sorted = useMemo(() => [...instances.items].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)), [instances.items]);

  const act = async (what: string, f: () => Promise<unknown>): Promise<void> => {
    setActionError(undefined);
    setMessage(undefined);
    try {
      const r = (await f()) as { message?: string } | undefined;
      setMessage(r?.message ?? `${what}: done`);
    } catch (e) {
      setActionError(e as Error);
    }
  };

  if (services.loaded && !service) {
    return <ErrorBox error={services.error ?? new Error(`service ${name} not found in namespace ${ns}`)} title="Not found" />;
  }
  if (!service) return <Text c="dimmed">Loading...</Text>;
  const st = serviceState(service);
  const r = service.status?.rollout;
  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Title order={2}>{name}</Title>
          <Badge size="lg" color={st.ready === st.desired ? 'green' : 'orange'} data-testid="service-ready">
            {st.ready}/{st.desired} ready
          </Badge>
          {st.version !== undefined && <Badge variant="outline">v{st.version}</Badge>}
          {st.rollout && <Badge variant="light">{st.rollout}</Badge>}
        </Group>
        <Tooltip label={canDelete.reason} disabled={canDelete.allowed}>
          <Button
            color="red"
            variant="light"
            disabled={!canDelete.allowed}
            onClick={() => {
              if (!window.confirm(`Delete service ${name} in ${ns}? Its instances stop.`)) return;
              void act('delete', async () => {
                await sendJson('DELETE', objectPath('services', ns, name));
                await navigate({ to: '/services' });
              });
            }}
          >
            Delete
          </Button>
        </Tooltip>
      </Group>
      <Text size="sm" c="dimmed">
        namespace {ns} · image {service.spec.containers.map((c) => c.image).join(', ')} {exposedAt(service) ? `· load balancer ${exposedAt(service)}` : ''}
      </Text>
      {message && (
        <Alert color="green" withCloseButton onClose={() => setMessage(undefined)} data-testid="action-message">
          {message}
        </Alert>
      )}
      <ErrorBox error={actionError} />
      <Tabs defaultValue="instances" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="instances">Instances ({instances.items.length})</Tabs.Tab>
          <Tabs.Tab value="rollout">Rollout</Tabs.Tab>
          <Tabs.Tab value="endpoints" data-testid="endpoints-tab">
            Endpoints
          </Tabs.Tab>
          <Tabs.Tab value="events">Events ({mine.length})</Tabs.Tab>
          <Tabs.Tab value="spec">Spec</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="instances" pt="md">
          <Group mb="sm" align="end">
            <NumberInput label="Replicas" min={0} value={replicas === '' ? st.desired : replicas} onChange={setReplicas} w={120} allowDecimal={false} data-testid="scale-input" />
            <Tooltip label={canScale.reason} disabled={canScale.allowed}>
              <Button disabled={!canScale.allowed} onClick={() => void act('scale', () => sendJson('PUT', `${objectPath('services', ns, name)}/scale`, { replicas: Number(replicas === '' ? st.desired : replicas) }))} data-testid="scale-button">
                Scale
              </Button>
            </Tooltip>
          </Group>
          <Table striped data-testid="instances">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Instance</Table.Th>
                <Table.Th>Node</Table.Th>
                <Table.Th>Phase</Table.Th>
                <Table.Th>Ports</Table.Th>
                <Table.Th>Restarts</Table.Th>
                <Table.Th>CPU / memory now</Table.Th>
                <Table.Th>Version</Table.Th>
                <Table.Th>Age</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {sorted.map((i) => (
                <Table.Tr key={i.metadata.name} data-testid="instance-row">
                  <Table.Td>
                    <Link className="gantry-link" to="/instances/$ns/$name" params={{ ns, name: i.metadata.name }}>
                      {i.metadata.name}
                    </Link>
                  </Table.Td>
                  <Table.Td>{i.spec.node ?? 'unplaced'}</Table.Td>
                  <Table.Td>
                    <Phase phase={i.status?.phase} ready={i.status?.ready} />
                  </Table.Td>
                  <Table.Td>{ports(i)}</Table.Td>
                  <Table.Td>{restarts(i)}</Table.Td>
                  <Table.Td data-testid="usage-now">{sorted.length <= MAX_USAGE_ROWS && i.spec.node ? <UsageNow ns={ns} name={i.metadata.name} /> : ''}</Table.Td>
                  <Table.Td>{i.spec.version !== undefined ? `v${i.spec.version}` : ''}</Table.Td>
                  <Table.Td>{age(i.metadata.createdAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Tabs.Panel>
        <Tabs.Panel value="rollout" pt="md">
          <Section title="Progress">
            {r ? (
              <Stack gap={4}>
                <Text size="sm">
                  {r.phase}: version {r.version}
                  {r.fromVersion !== undefined ? ` from ${r.fromVersion}` : ''} {r.message ? `— ${r.message}` : ''}
                </Text>
                <Progress value={st.desired > 0 ? ((service.status?.updatedReplicas ?? 0) / st.desired) * 100 : 100} />
                <Text size="xs" c="dimmed">
                  {service.status?.updatedReplicas ?? 0} of {st.desired} on the current version, {service.status?.availableReplicas ?? 0} available
                </Text>
              </Stack>
            ) : (
              <Text c="dimmed">No rollout yet.</Text>
            )}
            <Group mt="sm">
              {(['pause', 'resume', 'promote', 'undo'] as const).map((a) => (
                <Tooltip key={a} label={canRollout.reason} disabled={canRollout.allowed}>
                  <Button size="sm" variant="default" disabled={!canRollout.allowed} onClick={() => void act(a, () => sendJson('POST', `${objectPath('services', ns, name)}/rollout/${a}`, {}))} data-testid={`rollout-${a}`}>
                    {a[0]!.toUpperCase() + a.slice(1)}
                  </Button>
                </Tooltip>
              ))}
            </Group>
          </Section>
          <Section title="Version history">
            <Table>
              <Table.Tbody>
                {(rollout.data?.history ?? []).map((h) => (
                  <Table.Tr key={h.version}>
                    <Table.Td>
                      v{h.version} {h.current && <Badge size="xs">current</Badge>}
                    </Table.Td>
                    <Table.Td>{h.images.join(', ')}</Table.Td>
                    <Table.Td>{h.cause}</Table.Td>
                    <Table.Td>{age(h.createdAt)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Section>
        </Tabs.Panel>
        <Tabs.Panel value="endpoints" pt="md">
          <EndpointsPanel ns={ns} name={name} />
        </Tabs.Panel>
        <Tabs.Panel value="events" pt="md">
          <EventTable events={mine} />
        </Tabs.Panel>
        <Tabs.Panel value="spec" pt="md">
          <SpecEditor object={service} plural="services" allowed={canEdit.allowed} reason={canEdit.reason} onApplied={() => setMessage('applied')} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

/** Instances whose usage is asked for (one small request each every 10 s); more: see each instance. */
const MAX_USAGE_ROWS = 50;

/** The instance's latest sample (its containers summed), from its node's agent. */
function UsageNow({ ns, name }: { ns: string; name: string }) {
  const { data } = useQuery({
    queryKey: ['usage-now', ns, name],
    queryFn: () => getJson<StatsList>(`${objectPath('instances', ns, name)}/stats?since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`),
    refetchInterval: 10_000,
    retry: false,
  });
  if (!data) return null;
  let cores: number | undefined;
  let memory = 0;
  for (const series of data.items) {
    const last = series.samples.at(-1);
    if (!last) continue;
    if (last.cpuCores !== undefined) cores = (cores ?? 0) + last.cpuCores;
    memory += last.memoryWorkingSetBytes;
  }
  if (memory === 0 && cores === undefined) return null;
  return (
    <Text size="sm">
      {cores === undefined ? '…' : `${cores.toFixed(2)} CPU`} / {bytes(memory)}
    </Text>
  );
}

