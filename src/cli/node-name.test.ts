import { describe, expect, it } from 'vitest';
import { nodeNameFromHostname } from './node-name.js';

describe('nodeNameFromHostname', () => {
  it('makes a valid object name of any host name', () => {
    expect(nodeNameFromHostname('Build-01.example.com')).toBe('build-01-example-com');
    expect(nodeNameFromHostname('-_-')).toBe('node');
    expect(nodeNameFromHostname('a'.repeat(80))).toHaveLength(63);
  });
});
