// A node's default name is the host name, made into a valid object name (lower case, letters,
// digits and '-', at most 63 characters): `Build-01.example.com` -> `build-01-example-com`.
export function nodeNameFromHostname(hostname: string): string {
  const name = hostname
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return name || 'node';
}
