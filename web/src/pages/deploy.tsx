// The deploy form: the fields a developer fills in, a YAML preview beside it that stays in sync
// both ways, a plan (dry run) before the apply, and the server's field errors at their fields.
import { Alert, Button, Grid, Group, NumberInput, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useNavigate } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import type { DryRunResult, Manifest, Service } from '../../../src/core/index.js';
import { applyPlanned, planApply } from '../api/apply.js';
import { useCanI } from '../api/can-i.js';
import { ApiError } from '../api/http.js';
import { PlanView } from '../components/plan-view.js';
import { EMPTY_FORM, formToManifest, manifestToForm, manifestToYaml, mapFieldErrors, yamlToManifest, type FormField, type ServiceForm } from '../lib/service-form.js';
import { useNamespace } from '../namespace.js';

export function DeployPage() {
  const ns = useNamespace();
  const navigate = useNavigate();
  const [form, setForm] = useState<ServiceForm>({ ...EMPTY_FORM, namespace: ns === '*' ? 'default' : ns });
  const [base, setBase] = useState<Manifest<Service> | undefined>(undefined);
  const [yamlText, setYamlText] = useState<string | undefined>(undefined);
  const [yamlError, setYamlError] = useState<string | undefined>(undefined);
  const [errors, setErrors] = useState<{ byField: Partial<Record<FormField, string>>; other: string[]; message?: string }>({ byField: {}, other: [] });
  const [plan, setPlan] = useState<DryRunResult | undefined>(undefined);
  const [busy, setBusy] = useState<'plan' | 'apply' | undefined>(undefined);
  const may = useCanI('apply', 'service', form.namespace);

  const manifest = useMemo(() => formToManifest(form, base), [form, base]);
  const shownYaml = yamlText ?? manifestToYaml(manifest);

  const edit = (field: FormField, value: string): void => {
    setForm((f) => ({ ...f, [field]: value }));
    setYamlText(undefined);
    setYamlError(undefined);
    setPlan(undefined);
  };
  const editYaml = (text: string): void => {
    setYamlText(text);
    setPlan(undefined);
    const parsed = yamlToManifest(text);
    if (!parsed.ok) return setYamlError(parsed.error);
    setYamlError(undefined);
    setBase(parsed.manifest);
    setForm(manifestToForm(parsed.manifest));
  };

  const showError = (e: unknown): void => {
    if (e instanceof ApiError) setErrors({ ...mapFieldErrors(e.details), message: e.message });
    else setErrors({ byField: {}, other: [], message: String(e) });
  };
  const doPlan = async (): Promise<void> => {
    setBusy('plan');
    setErrors({ byField: {}, other: [] });
    try {
      setPlan(await planApply('services', manifest));
    } catch (e) {
      setPlan(undefined);
      showError(e);
    } finally {
      setBusy(undefined);
    }
  };
  const doApply = async (): Promise<void> => {
    if (!plan) return;
    setBusy('apply');
    try {
      await applyPlanned('services', manifest, plan);
      await navigate({ to: '/services/$ns/$name', params: { ns: manifest.metadata.namespace ?? 'default', name: manifest.metadata.name } });
    } catch (e) {
      showError(e);
      // It changed since the plan: plan again, so what is shown is what an apply would do now.
      if (e instanceof ApiError && e.status === 409) await doPlan();
    } finally {
      setBusy(undefined);
    }
  };

  const field = (name: FormField, label: string, props: { placeholder?: string; description?: string; required?: boolean } = {}) => (
    <TextInput label={label} value={form[name]} onChange={(e) => edit(name, e.currentTarget.value)} error={errors.byField[name]} data-testid={`field-${name}`} {...props} />
  );

  return (
    <Stack>
      <Title order={2}>Deploy a service</Title>
      {!may.allowed && <Alert color="orange">Deploying is not allowed: {may.reason}</Alert>}
      <Grid>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Stack gap="sm" component="form" onSubmit={(e) => (e.preventDefault(), void doPlan())}>
            <Group grow>
              {field('name', 'Name', { required: true, placeholder: 'web' })}
              {field('namespace', 'Namespace')}
            </Group>
            {field('image', 'Image', { required: true, placeholder: 'nginx:1.27' })}
            {field('command', 'Command', { placeholder: "sh -c 'httpd -f -p 8080'", description: "words, quoted like a shell's; empty: the image's own" })}
            <Textarea label="Environment" description="one NAME=value per line" autosize minRows={2} value={form.env} onChange={(e) => edit('env', e.currentTarget.value)} error={errors.byField.env} data-testid="field-env" />
            {field('ports', 'Ports', { placeholder: 'http:8080, dns:53/udp' })}
            <Group grow>
              {field('cpu', 'CPU', { placeholder: '0.25 or 250m' })}
              {field('memory', 'Memory', { placeholder: '128Mi' })}
              <NumberInput label="Replicas" value={form.replicas === '' ? '' : Number.isNaN(Number(form.replicas)) ? form.replicas : Number(form.replicas)} onChange={(v) => edit('replicas', String(v))} error={errors.byField.replicas} allowDecimal={false} data-testid="field-replicas" />
            </Group>
            <Group grow>
              {field('healthPort', 'Health check port', { placeholder: 'http', description: 'a port name; empty: no HTTP check' })}
              {field('healthPath', 'Health check path')}
            </Group>
            <Group grow>
              {field('constraints', 'Placement constraints', { placeholder: 'rack=a, pool!=gpu' })}
              {field('spread', 'Spread across', { placeholder: 'rack' })}
            </Group>
            {field('expose', 'Expose on the load balancer', { placeholder: 'http or http@app.example.com' })}
            {errors.message && (
              <Alert color="red" title="The server refused it" data-testid="apply-error">
                <Text size="sm">{errors.message}</Text>
                {errors.other.map((o) => (
                  <Text size="sm" key={o}>
                    {o}
                  </Text>
                ))}
              </Alert>
            )}
            <Group>
              <Button type="submit" loading={busy === 'plan'} disabled={!may.allowed || yamlError !== undefined} data-testid="plan-button">
                Plan
              </Button>
              <Button color="green" onClick={() => void doApply()} loading={busy === 'apply'} disabled={!plan || !may.allowed} data-testid="apply-button">
                Apply
              </Button>
            </Group>
            {plan && <PlanView plan={plan} />}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Textarea
            label="YAML"
            description="edits here update the form, and the other way round"
            value={shownYaml}
            onChange={(e) => editYaml(e.currentTarget.value)}
            error={yamlError}
            autosize
            minRows={24}
            spellCheck={false}
            styles={{ input: { fontFamily: 'ui-monospace, Menlo, Consolas, monospace', fontSize: 13 } }}
            data-testid="yaml"
          />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
