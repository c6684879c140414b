// Configs and Secrets. Secret values are write-only here: the API answers markers instead of
// values, so the console shows which keys are set and lets you replace all of them at once (an
// apply replaces the whole data map; a marker sent back is refused by the server).
import { Alert, Badge, Button, Group, SegmentedControl, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useCanI } from '../api/can-i.js';
import { ApiError, sendJson } from '../api/http.js';
import { useLiveList } from '../api/live-list.js';
import { collection, objectPath } from '../api/paths.js';
import { age, ErrorBox, Section } from '../components/bits.js';
import type { Config, Secret } from '../model.js';
import { useNamespace } from '../namespace.js';

type Kind = 'Config' | 'Secret';
const plural = (k: Kind): 'configs' | 'secrets' => (k === 'Config' ? 'configs' : 'secrets');

function Editor({ kind, ns, start, onDone }: { kind: Kind; ns: string; start?: { name: string; data: Record<string, string> }; onDone: () => void }) {
  const [name, setName] = useState(start?.name ?? '');
  const [entries, setEntries] = useState<{ key: string; value: string }[]>(() => (start ? Object.entries(start.data).map(([key, value]) => ({ key, value: kind === 'Secret' ? '' : value })) : [{ key: '', value: '' }]));
  const [error, setError] = useState<ApiError | Error | undefined>(undefined);
  const save = async (): Promise<void> => {
    setError(undefined);
    const data = Object.fromEntries(entries.filter((e) => e.key.trim() !== '').map((e) => [e.key.trim(), e.value]));
    try {
      await sendJson('PUT', objectPath(plural(kind), ns, name.trim()), { apiVersion: 'gantry/v1', kind, metadata: { name: name.trim(), namespace: ns }, spec: { data } });
      onDone();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <Stack gap="xs" p="sm" style={{ border: '1px solid var(--mantine-color-default-border)', borderRadius: 4 }}>
      <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} disabled={start !== undefined} />
      {kind === 'Secret' && start && <Text size="sm">Secret values are never shown: type every value anew (keys left out are removed).</Text>}
      {entries.map((e, i) => (
        <Group key={i} align="start" grow>
          <TextInput placeholder="key" value={e.key} onChange={(ev) => setEntries(entries.map((x, j) => (j === i ? { ...x, key: ev.currentTarget.value } : x)))} aria-label="Key" />
          <Textarea placeholder={kind === 'Secret' ? 'new value (write-only)' : 'value'} autosize minRows={1} value={e.value} onChange={(ev) => setEntries(entries.map((x, j) => (j === i ? { ...x, value: ev.currentTarget.value } : x)))} aria-label="Value" />
        </Group>
      ))}
      <Group>
        <Button variant="default" size="xs" onClick={() => setEntries([...entries, { key: '', value: '' }])}>
          Add key
        </Button>
        <Button size="xs" onClick={() => void save()} disabled={name.trim() === ''}>
          Save
        </Button>
        <Button size="xs" variant="subtle" onClick={onDone}>
          Cancel
        </Button>
      </Group>
      {error instanceof ApiError && error.details.length > 0 ? (
        <Alert color="red">{error.details.map((d) => `${d.path}: ${d.message}`).join('; ')}</Alert>
      ) : (
        <ErrorBox error={error} />
      )}
    </Stack>
  );
}

export function ConfigsPage() {
  const nsSel = useNamespace();
  const ns = nsSel === '*' ? 'default' : nsSel;
  const [kind, setKind] = useState<Kind>('Config');
  const configs = useLiveList<Config>(collection('configs', ns));
  const secrets = useLiveList<Secret>(collection('secrets', ns));
  const may = useCanI('apply', kind.toLowerCase(), ns);
  const [editing, setEditing] = useState<{ name: string; data: Record<string, string> } | 'new' | undefined>(undefined);
  const items = (kind === 'Config' ? configs : secrets).items;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Configs and Secrets</Title>
        <Group>
          <SegmentedControl data={['Config', 'Secret']} value={kind} onChange={(v) => (setKind(v), setEditing(undefined))} />
          <Button disabled={!may.allowed} title={may.allowed ? undefined : may.reason} onClick={() => setEditing('new')}>
            New {kind}
          </Button>
        </Group>
      </Group>
      {nsSel === '*' && <Text size="sm">Showing namespace default (pick one namespace to see its own).</Text>}
      <ErrorBox error={(kind === 'Config' ? configs : secrets).error} />
      {editing !== undefined && <Editor kind={kind} ns={ns} onDone={() => setEditing(undefined)} {...(editing === 'new' ? {} : { start: editing })} />}
      <Section title={`${kind}s in ${ns}`}>
        <Table>
          <Table.Tbody>
            {items.map((o) => (
              <Table.Tr key={o.metadata.name}>
                <Table.Td>{o.metadata.name}</Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {Object.keys(o.spec.data).map((k) => (
                      <Badge key={k} variant="outline" size="sm">
                        {k}
                        {kind === 'Secret' ? ' (set)' : ''}
                      </Badge>
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td>{age(o.metadata.createdAt)}</Table.Td>
                <Table.Td>
                  <Button size="xs" variant="default" disabled={!may.allowed} onClick={() => setEditing({ name: o.metadata.name, data: o.spec.data })}>
                    {kind === 'Secret' ? 'Replace values' : 'Edit'}
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Section>
    </Stack>
  );
}
