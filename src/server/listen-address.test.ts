import { describe, expect, it } from 'vitest';
import { parseListen, urlOf } from './listen-address.js';

describe('parseListen', () => {
  it('reads host:port, :port and [v6]:port', () => {
    expect(parseListen('127.0.0.1:7070')).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(parseListen(':0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('[::1]:7070')).toEqual({ host: '::1', port: 7070 });
    expect(urlOf('::1', 7070)).toBe('http://[::1]:7070');
  });

  it('names the option and the expected shape when wrong', () => {
    expect(() => parseListen('7070')).toThrow('--listen must be host:port like 127.0.0.1:7070, not "7070"');
    expect(() => parseListen('h:70000')).toThrow('--listen must be host:port');
  });
});
