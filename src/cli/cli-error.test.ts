import { describe, expect, it } from 'vitest';
import { InvalidError, NotFoundError } from '../core/index.js';
import { formatCliError } from './cli-error.js';

describe('formatCliError', () => {
  it('prints the message and each field detail on its own line', () => {
    const e = new InvalidError('service "web" is invalid: 2 problems', [
      { path: 'spec.replicas', message: 'must be a whole number from 0 to 100000' },
      { path: 'spec.containers[0].image', message: 'is required' },
    ]);
    expect(formatCliError(e, { debug: false })).toBe(
      'error: service "web" is invalid: 2 problems\n' +
      '  spec.replicas: must be a whole number from 0 to 100000\n' +
      '  spec.containers[0].image: is required\n',
    );
  });

  it('shows no stack trace unless debugging', () => {
    const e = new NotFoundError('Service', 'default', 'web');
    expect(formatCliError(e, { debug: false })).not.toContain('    at ');
    expect(formatCliError(e, { debug: true })).toContain('    at ');
  });

  it('turns a refused connection into a hint naming the server', () => {
    const e = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(formatCliError(e, { debug: false, server: 'http://127.0.0.1:7070' })).toBe(
      'error: cannot reach the Gantry server at http://127.0.0.1:7070 (ECONNREFUSED): start it with `npm run up`, or pass --server / GANTRY_ADDR\n',
    );
  });
});
