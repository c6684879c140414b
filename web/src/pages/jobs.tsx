import { Badge, Button, Group, Stack, Table, Text, Tooltip } from '@mantine/core';
import { useMemo, useState } from 'react';
import { useCanI } from '../api/can-i.js';
import { sendJson } from '../api/http.js';
import { useLiveList } from '../api/live-list.js';
import { collection } from '../api/paths.js';
import { age, ErrorBox, Phase, Section } from '../components/bits.js';
import type { CronJob, Job } from '../model.js';
import { useNamespace } from '../namespace.js';

const seconds = (ms: number | undefined): string => (ms === undefined ? '' : `${(ms / 1000).toFixed(1)}s`);

function CronActions({ cj }: { cj: CronJob }) {
  const may = useCanI('trigger', 'cronjob', cj.metadata.namespace);
  const [error, setError] = useState<Error | undefined>(undefined);
  const act = (action: 'trigger' | 'suspend' | 'resume'): void => {
    setError(undefined);
    sendJson('POST', `${collection('cronjobs', cj.metadata.namespace)}/${encodeURIComponent(cj.metadata.name)}/${action}`, {}).catch((e: Error) => setError(e));
  };
  return (
    <Group gap="xs">
      <Tooltip label={may.reason} disabled={may.allowed}>
        <Button size="xs" variant="default" disabled={!may.allowed} onClick={() => act('trigger')}>
          Run now
        </Button>
      </Tooltip>
      <Button size="xs" variant="default" disabled={!may.allowed} onClick={() => act(cj.spec.suspend ? 'resume' : 'suspend')}>
        {cj.spec.suspend ? 'Resume' : 'Suspend'}
      </Button>
      <ErrorBox error={error} />
    </Group>
  );
}

export function JobsPage() {
  const ns = useNamespace();
  const jobs = useLiveList<Job>(collection('jobs', ns));
  const crons = useLiveList<CronJob>(collection('cronjobs', ns));
  const sortedJobs = useMemo(() => [...jobs.items].sort((a, b) => b.metadata.createdAt.localeCompare(a.metadata.createdAt)), [jobs.items]);
  return (
    <Stack>
      <Text fw={700} size="xl">
        Jobs
      </Text>
      <ErrorBox error={jobs.error ?? crons.error} />
      <Section title="Cron jobs">
        {crons.items.length === 0 ? (
          <Text c="dimmed">No cron jobs.</Text>
        ) : (
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Schedule</Table.Th>
                <Table.Th>Next run</Table.Th>
                <Table.Th>Last run</Table.Th>
                <Table.Th>Active</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {crons.items.map((cj) => (
                <Table.Tr key={`${cj.metadata.namespace}/${cj.metadata.name}`}>
                  <Table.Td>
                    {cj.metadata.name} {cj.spec.suspend && <Badge color="gray">suspended</Badge>}
                  </Table.Td>
                  <Table.Td>
                    <code>{cj.spec.schedule}</code>
                  </Table.Td>
                  <Table.Td>{cj.status?.nextScheduleTime ? new Date(cj.status.nextScheduleTime).toLocaleString() : ''}</Table.Td>
                  <Table.Td>{age(cj.status?.lastScheduleTime)}</Table.Td>
                  <Table.Td>{cj.status?.active.length ?? 0}</Table.Td>
                  <Table.Td>
                    <CronActions cj={cj} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Section>
      <Section title="Jobs and their runs">
        {sortedJobs.length === 0 ? (
          <Text c="dimmed">No jobs.</Text>
        ) : (
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Job</Table.Th>
                <Table.Th>Phase</Table.Th>
                <Table.Th>Runs (exit code, duration)</Table.Th>
                <Table.Th>Age</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {sortedJobs.map((j) => (
                <Table.Tr key={`${j.metadata.namespace}/${j.metadata.name}`}>
                  <Table.Td>{j.metadata.name}</Table.Td>
                  <Table.Td>
                    <Phase phase={j.status?.phase} />
                  </Table.Td>
                  <Table.Td>
                    <Stack gap={2}>
                      {(j.status?.runs ?? []).map((r) => (
                        <Text size="sm" key={r.run}>
                          #{r.run} {r.phase}
                          {r.exitCode !== undefined ? `, exit ${r.exitCode}` : ''}
                          {r.durationMs !== undefined ? `, ${seconds(r.durationMs)}` : ''}
                          {r.node ? ` on ${r.node}` : ''} —{' '}
                          <a href={`/instances/${encodeURIComponent(j.metadata.namespace ?? 'default')}/${encodeURIComponent(r.instance)}`}>logs</a>
                        </Text>
                      ))}
                    </Stack>
                  </Table.Td>
                  <Table.Td>{age(j.metadata.createdAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Section>
    </Stack>
  );
}
