// Small shared pieces. Everything from the cluster is rendered as React text (never as HTML).
import { Alert, Badge, Button, Group, Progress, Stack, Text, Title } from '@mantine/core';
import { Link } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { useWhoAmI } from '../api/can-i.js';
import type { ApiError } from '../api/http.js';

export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** A 403 as a page of its own: what was refused and why (the server names the role), who is signed in, and what to do. */
function Forbidden({ error }: { error: ApiError | Error }) {
  const who = useWhoAmI();
  return (
    <Stack gap="xs" my="md" p="lg" data-testid="forbidden" style={{ border: '1px solid var(--mantine-color-orange-4)', borderRadius: 6 }}>
      <Title order={3}>Not allowed</Title>
      <Text>{error.message}</Text>
      {who && (
        <Text size="sm" c="dimmed">
          You are signed in as {who.description}.
        </Text>
      )}
      <Text size="sm">
        Ask a cluster administrator for a token with the role this needs in that namespace (gantry token create --user YOU --role ROLE --namespace NS), then sign out and
        sign in with it.
      </Text>
      <Group>
        <Button component={Link} to="/" variant="default" size="xs">
          Back to the overview
        </Button>
      </Group>
    </Stack>
  );
}

/** An API error as a page section: 403 is a page of its own naming the role needed, 401 sends to sign-in (http.ts). */
export function ErrorBox({ error, title }: { error: ApiError | Error | undefined; title?: string }) {
  if (!error) return null;
  const status = (error as ApiError).status;
  if (status === 403) return <Forbidden error={error} />;
  const heading = title ?? (status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Error');
  return (
    <Alert color={status === 403 ? 'orange' : 'red'} title={heading} my="sm" data-testid="error">
      {error.message}
    </Alert>
  );
}

export function Phase({ phase, ready }: { phase: string | undefined; ready?: boolean | undefined }) {
  const color = phase === 'Running' ? (ready === false ? 'yellow' : 'green') : phase === 'Failed' || phase === 'Lost' ? 'red' : phase === 'Succeeded' ? 'gray' : 'blue';
  return (
    <Badge color={color} variant="light">
      {phase ?? 'Unknown'}
      {phase === 'Running' && ready === false ? ' (not ready)' : ''}
    </Badge>
  );
}

/** A usage bar: requested and used against capacity. */
export function UsageBar({ label, used, requested, capacity, format }: { label: string; used?: number | undefined; requested: number; capacity: number; format: (n: number) => string }) {
  const pct = (n: number): number => (capacity > 0 ? Math.min(100, (n / capacity) * 100) : 0);
  return (
    <div>
      <Group justify="space-between" gap={4}>
        <Text size="xs">{label}</Text>
        <Text size="xs" c="dimmed">
          {format(requested)} requested{used !== undefined ? `, ${format(used)} used` : ''} of {format(capacity)}
        </Text>
      </Group>
      <div title={`${Math.round(pct(requested))}% requested`}>
        <Progress.Root size="md">
          <Progress.Section value={pct(requested)} color={pct(requested) > 90 ? 'red' : 'indigo'} />
        </Progress.Root>
      </div>
    </div>
  );
}

export const cores = (m: number): string => `${(m / 1000).toFixed(m % 1000 === 0 ? 0 : 2)} CPU`;
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(n >= 10 || i === 0 ? 0 : 1)} ${units[i]}`;
}

export function Section({ title, children, right }: { title: string; children: ReactNode; right?: ReactNode }) {
  return (
    <section style={{ marginBottom: 24 }}>
      <Group justify="space-between" mb="xs">
        <Text fw={600} size="lg">
          {title}
        </Text>
        {right}
      </Group>
      {children}
    </section>
  );
}
