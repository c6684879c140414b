import { ActionIcon, AppShell, Button, Group, NativeSelect, NavLink, Text, Title, useMantineColorScheme } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useRouterState } from '@tanstack/react-router';
import { useWhoAmI } from '../api/can-i.js';
import { useLiveList, type Obj } from '../api/live-list.js';
import { signOut } from '../api/session.js';
import { setNamespace, useNamespace } from '../namespace.js';

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/services', label: 'Services' },
  { to: '/instances', label: 'Instances' },
  { to: '/nodes', label: 'Nodes' },
  { to: '/jobs', label: 'Jobs' },
  { to: '/events', label: 'Events' },
  { to: '/configs', label: 'Configs & Secrets' },
] as const;

export function Layout() {
  const path = useRouterState({ select: (s) => s.location.pathname });
  const ns = useNamespace();
  const namespaces = useLiveList<Obj>('/api/v1/namespaces');
  const who = useWhoAmI();
  const queries = useQueryClient();
  const { colorScheme, toggleColorScheme } = useMantineColorScheme();
  const options = [{ value: '*', label: 'all namespaces' }, ...namespaces.items.map((n) => ({ value: n.metadata.name, label: n.metadata.name }))];
  if (!options.some((o) => o.value === ns)) options.push({ value: ns, label: ns });
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 210, breakpoint: 'sm' }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="md" wrap="nowrap">
            <Title order={3}>Gantry</Title>
            {/* A native select: the first page's script stays free of the kit's combobox and popover code. */}
            <NativeSelect aria-label="Namespace" data={options} value={ns} onChange={(e) => setNamespace(e.currentTarget.value)} w={200} data-testid="namespace" />
          </Group>
          <Group gap="sm" wrap="nowrap">
            {who && (
              <Text size="sm" c="dimmed" data-testid="whoami">
                {who.description}
              </Text>
            )}
            <ActionIcon variant="default" size="lg" aria-label="Toggle light and dark" title={colorScheme === 'dark' ? 'Light theme' : 'Dark theme'} onClick={toggleColorScheme}>
              {colorScheme === 'dark' ? '☀' : '☾'}
            </ActionIcon>
            <Button
              variant="default"
              onClick={() => {
                signOut();
                queries.clear();
                window.location.reload();
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        {NAV.map((n) => (
          <NavLink key={n.to} component={Link} to={n.to} search={{ ns } as never /* Mantine's polymorphic NavLink loses the router's search type */} label={n.label} active={n.to === '/' ? path === '/' : path.startsWith(n.to)} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
