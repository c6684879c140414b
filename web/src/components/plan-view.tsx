// A dry run's answer: what changes (a line diff) and where the replicas would land.
import { Alert, Badge, Box, Code, Group, Stack, Text } from '@mantine/core';
import type { DryRunResult } from '../../../src/core/index.js';

export function PlanView({ plan }: { plan: DryRunResult }) {
  const changed = plan.diff.filter((d) => d.op !== ' ').length;
  return (
    <Stack gap="xs" data-testid="plan">
      <Group gap="xs">
        <Text fw={600}>Plan</Text>
        <Badge variant="light" color={plan.result === 'unchanged' ? 'gray' : 'indigo'}>
          {plan.result === 'created' ? 'will be created' : plan.result === 'configured' ? `will change (${changed} lines)` : 'no change'}
        </Badge>
        {plan.revision > 0 && (
          <Text size="xs" c="dimmed">
            against revision {plan.revision}
          </Text>
        )}
      </Group>
      {plan.placement && (
        <Alert color={plan.placement.failures.length > 0 ? 'orange' : 'green'} data-testid="placement" title="Placement">
          <Text size="sm" data-testid="placement-summary">
            {plan.placement.summary}
          </Text>
          {plan.placement.nodes.map((n) => (
            <Text size="sm" key={n.node} data-testid="placement-node">
              {n.node}: {n.count} {n.count === 1 ? 'replica' : 'replicas'}
            </Text>
          ))}
        </Alert>
      )}
      {plan.result !== 'unchanged' && (
        <Box style={{ maxHeight: 280, overflow: 'auto' }}>
          <Code block data-testid="diff">
            {plan.diff.map((d, i) => (
              <span key={i} style={{ display: 'block', color: d.op === '+' ? 'var(--mantine-color-green-7)' : d.op === '-' ? 'var(--mantine-color-red-7)' : undefined }}>
                {d.op} {d.line}
              </span>
            ))}
          </Code>
        </Box>
      )}
    </Stack>
  );
}
