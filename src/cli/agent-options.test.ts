import { describe, expect, it } from 'vitest';
import { parseAddressOption } from './agent-options.js';

describe('parseAddressOption', () => {
  it('takes IP addresses and refuses names and anything with spaces or ";"', () => {
    expect(parseAddressOption(undefined)).toBeUndefined();
    expect(parseAddressOption('10.0.0.5')).toBe('10.0.0.5');
    expect(parseAddressOption('fd00::5')).toBe('fd00::5');
    for (const bad of ['node-1.example', '1.2.3.4;shutdown', '10.0.0.5 ', '']) expect(() => parseAddressOption(bad), bad).toThrow(/--address must be this host's IP address/);
  });
});
