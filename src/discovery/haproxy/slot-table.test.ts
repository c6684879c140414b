import { joinCommands } from './haproxy-socket.js';
import { describe, expect, it } from 'vitest';
import { runtimeCommands, SlotTable } from './slot-table.js';

const ep = (instance: string, port: number) => ({ instance, address: '127.0.0.1', port });

describe('SlotTable', () => {
  it('keeps an endpoint in its slot, fills free slots in order, and empties slots of endpoints that left', () => {
    const t = new SlotTable();
    expect(t.update('be', 4, [ep('b', 2), ep('a', 1)]).map((c) => [c.slot, c.server?.instance])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    // a leaves, c arrives: c takes slot 1 (the lowest free), b stays in slot 2.
    expect(t.update('be', 4, [ep('b', 2), ep('c', 3)]).map((c) => [c.slot, c.server?.instance])).toEqual([[1, 'c']]);
    expect(t.update('be', 4, [ep('c', 3)]).map((c) => [c.slot, c.server?.instance])).toEqual([[2, undefined]]);
    expect(t.update('be', 4, [ep('c', 3)])).toEqual([]);
    // A new host port for the same instance is a change of its slot.
    expect(t.update('be', 4, [ep('c', 4)])).toEqual([{ backend: 'be', slot: 1, server: ep('c', 4) }]);
  });

  it('leaves out endpoints beyond the slots, and takes them in once the backend grows', () => {
    const t = new SlotTable();
    t.update('be', 2, [ep('a', 1), ep('b', 2), ep('c', 3)]);
    expect(t.get('be').map((s) => s?.instance)).toEqual(['a', 'b']);
    expect(t.update('be', 4, [ep('a', 1), ep('b', 2), ep('c', 3)]).map((c) => c.slot)).toEqual([3]);
    t.retain(new Set());
    expect(t.size('be')).toBeUndefined();
  });

  it('turns a change into runtime API commands: address, forced health, ready; or maintenance', () => {
    expect(runtimeCommands({ backend: 'be_x', slot: 3, server: ep('a', 24117) })).toEqual([
      'set server be_x/slot3 addr 127.0.0.1 port 24117',
      'set server be_x/slot3 health up',
      'set server be_x/slot3 state ready',
    ]);
    expect(runtimeCommands({ backend: 'be_x', slot: 3, server: undefined })).toEqual(['set server be_x/slot3 state maint']);
  });

  it('refuses to turn an address that would end the command into one; the socket refuses such words too', () => {
    expect(() => runtimeCommands({ backend: 'be_x', slot: 1, server: { instance: 'a', address: '1.2.3.4;shutdown', port: 1 } })).toThrow(/not written/);
    expect(joinCommands(['set server be_x/slot1 state maint', 'show stat'])).toBe('set server be_x/slot1 state maint;show stat');
    expect(() => joinCommands(['set server be_x/slot1 addr 1.2.3.4;shutdown port 1'])).toThrow(/refused to send/);
    expect(() => joinCommands(['show stat\nshutdown'])).toThrow(/refused to send/);
  });
});
