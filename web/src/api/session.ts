// The signed-in token: in this tab's sessionStorage only (never in a URL, gone with the tab).
const KEY = 'gantry.token';

export function sessionToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token.trim());
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
