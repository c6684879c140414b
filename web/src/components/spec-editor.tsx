// Edit -> plan -> apply of a stored object's spec as YAML. The apply sends the revision it planned
// against; a 409 (the object changed meanwhile) says so and plans again.
import { Alert, Button, Group, Stack, Text, Textarea } from '@mantine/core';
import { useEffect, useState } from 'react';
import { parse, stringify } from 'yaml';
import type { DryRunResult, Manifest } from '../../../src/core/index.js';
import { applyPlanned, planApply } from '../api/apply.js';
import { ApiError } from '../api/http.js';
import type { NamespacedPlural } from '../api/paths.js';
import type { Obj } from '../api/live-list.js';
import { PlanView } from './plan-view.js';

/** What a user edits: the manifest without server-set metadata and status. */
export function editable(o: Obj): Manifest {
  const { name, namespace, labels } = o.metadata;
  const annotations = (o.metadata as { annotations?: Record<string, string> }).annotations;
  return { apiVersion: o.apiVersion ?? 'gantry/v1', kind: o.kind, metadata: { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) }, spec: o.spec } as Manifest;
}

export function SpecEditor({ object, plural, allowed, reason, onApplied }: { object: Obj; plural: NamespacedPlural; allowed: boolean; reason: string; onApplied?: () => void }) {
  const [text, setText] = useState(() => stringify(editable(object), { lineWidth: 0 }));
  const [dirty, setDirty] = useState(false);
  const [plan, setPlan] = useState<DryRunResult | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  // Follow the live object until the user edits.
  useEffect(() => {
    if (!dirty) setText(stringify(editable(object), { lineWidth: 0 }));
  }, [object, dirty]);

  const manifest = (): Manifest | undefined => {
    try {
      return parse(text) as Manifest;
    } catch (e) {
      setError((e as Error).message.split('\n')[0]);
      return undefined;
    }
  };
  const doPlan = async (): Promise<void> => {
    const m = manifest();
    if (!m) return;
    setBusy(true);
    setError(undefined);
    try {
      setPlan(await planApply(plural, m));
    } catch (e) {
      setPlan(undefined);
      setError(e instanceof ApiError ? [e.message, ...e.details.map((d) => `${d.path}: ${d.message}`)].join('\n') : String(e));
    } finally {
      setBusy(false);
    }
  };
  const doApply = async (): Promise<void> => {
    const m = manifest();
    if (!m || !plan) return;
    setBusy(true);
    try {
      await applyPlanned(plural, m, plan);
      setPlan(undefined);
      setDirty(false);
      onApplied?.();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        setError(`It changed since the plan: ${e.message}. Planned again against the current version below.`);
        setBusy(false);
        const fresh = await planApply(plural, { ...m, metadata: { ...m.metadata, revision: undefined } }).catch(() => undefined);
        setPlan(fresh);
        return;
      }
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack gap="xs">
      <Textarea
        value={text}
        onChange={(e) => (setText(e.currentTarget.value), setDirty(true), setPlan(undefined))}
        autosize
        minRows={10}
        maxRows={30}
        spellCheck={false}
        styles={{ input: { fontFamily: 'ui-monospace, Menlo, Consolas, monospace', fontSize: 13 } }}
        aria-label="Spec as YAML"
        data-testid="spec-yaml"
      />
      {!allowed && (
        <Text size="sm" c="dimmed">
          Editing is off: {reason}
        </Text>
      )}
      {error && (
        <Alert color="red" style={{ whiteSpace: 'pre-wrap' }} data-testid="spec-error">
          {error}
        </Alert>
      )}
      <Group>
        <Button onClick={() => void doPlan()} loading={busy && !plan} disabled={!allowed} data-testid="spec-plan">
          Plan
        </Button>
        <Button color="green" onClick={() => void doApply()} disabled={!allowed || !plan || plan.result === 'unchanged'} loading={busy && plan !== undefined} data-testid="spec-apply">
          Apply
        </Button>
        {dirty && (
          <Button variant="subtle" onClick={() => (setDirty(false), setPlan(undefined), setError(undefined))}>
            Discard edits
          </Button>
        )}
      </Group>
      {plan && <PlanView plan={plan} />}
    </Stack>
  );
}
