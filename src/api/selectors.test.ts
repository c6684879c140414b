import { describe, expect, it } from 'vitest';
import { isAppError, type AnyObject } from '../core/index.js';
import { selectorSelection } from './selectors.js';
import { anInstance } from '../core/test-builders.js';

const stored = (name: string, over: Parameters<typeof anInstance>[1], labels?: Record<string, string>): AnyObject => {
  const inst = anInstance(name, over);
  return { ...inst, metadata: { ...inst.metadata, ...(labels && { labels }) } };
};

describe('selectorSelection', () => {
  it('hands spec.node to the store even when it is not the first term, and keeps the rest as a predicate', () => {
    const s = selectorSelection({ fieldSelector: 'spec.service=web,spec.node=n1', labelSelector: 'tier=db' });
    expect(s.field).toEqual({ path: 'spec.node', value: 'n1' });
    expect(s.predicate?.(stored('web-aaaaa', { service: 'web' }))).toBe(false); // no tier=db label
    expect(s.predicate?.(stored('web-aaaaa', { service: 'web' }, { tier: 'db' }))).toBe(true);
    expect(s.predicate?.(stored('api-aaaaa', { service: 'api' }, { tier: 'db' }))).toBe(false);
  });

  it('hands spec.service down when it is the only field term, leaving nothing to check', () => {
    expect(selectorSelection({ fieldSelector: 'spec.service=web' })).toEqual({ field: { path: 'spec.service', value: 'web' }, predicate: undefined });
  });

  it('reads an empty value as "field absent" (unbound instances)', () => {
    expect(selectorSelection({ fieldSelector: 'spec.node=' }).field).toEqual({ path: 'spec.node', value: undefined });
  });

  it('keeps a repeated field term as a check, so both must hold', () => {
    const s = selectorSelection({ fieldSelector: 'spec.node=n1,spec.node=n2' });
    expect(s.field).toEqual({ path: 'spec.node', value: 'n1' });
    expect(s.predicate?.(stored('web-aaaaa', { node: 'n1' }))).toBe(false);
  });

  it('selects nothing in the store without a field term, and rejects unknown fields', () => {
    expect(selectorSelection({})).toEqual({ field: undefined, predicate: undefined });
    expect(selectorSelection({ labelSelector: 'a=b' }).field).toBeUndefined();
    let err: unknown;
    try {
      selectorSelection({ fieldSelector: 'status.reason=Lost' });
    } catch (e) {
      err = e;
    }
    expect(isAppError(err, 'MALFORMED')).toBe(true);
  });
});
