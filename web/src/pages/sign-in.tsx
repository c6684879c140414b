import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { ApiError, getJson } from '../api/http.js';
import { signIn, signOut } from '../api/session.js';

export function SignIn({ reason, onSignedIn }: { reason: string | undefined; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(reason);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    signIn(token);
    try {
      await getJson('/api/v1/auth/whoami');
      onSignedIn();
    } catch (err) {
      signOut();
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w={420} component="form" onSubmit={(e: FormEvent) => void submit(e)}>
        <Stack>
          <Title order={2}>Gantry</Title>
          <Text size="sm" c="dimmed">
            Sign in with a token: the admin token (in the data dir, admin.token) or one from <code>gantry token create</code>. It stays in this tab only.
          </Text>
          {error && (
            <Alert color="red" title="Not signed in" data-testid="signin-error">
              {error}
            </Alert>
          )}
          <PasswordInput label="Token" value={token} onChange={(e) => setToken(e.currentTarget.value)} autoFocus required autoComplete="off" data-testid="token" />
          <Button type="submit" loading={busy} disabled={token.trim() === ''}>
            Sign in
          </Button>
        </Stack>
      </Paper>
    </Center>
  );
}
