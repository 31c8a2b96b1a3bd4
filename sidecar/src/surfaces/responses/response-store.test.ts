import { describe, expect, it } from '@jest/globals';
import { entryBytes, ResponseStore, type StoredResponse } from './response-store.ts';

function entry(text = 'hi'): StoredResponse {
  return {
    items: [{ role: 'user', content: text }],
    servedBy: { target: 'primary', provider: 'openai', baseURL: 'https://api.openai.com/v1' },
    response: { id: 'resp', object: 'response', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok', annotations: [] }] }] },
  };
}

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('ResponseStore', () => {
  it('puts, gets and deletes, counting bytes', () => {
    const s = new ResponseStore({ maxEntries: 10, maxBytes: 1 << 20, ttlMs: 60_000 });
    const e = entry();
    expect(s.put('resp_1', e)).toBe(true);
    expect(s.get('resp_1')).toBe(e);
    expect(s.bytes).toBe(entryBytes('resp_1', e));
    expect(s.put('resp_1', entry('again'))).toBe(true);
    expect(s.size).toBe(1);
    expect(s.bytes).toBe(entryBytes('resp_1', entry('again')));
    expect(s.delete('resp_1')).toBe(true);
    expect(s.delete('resp_1')).toBe(false);
    expect(s.get('resp_1')).toBeUndefined();
    expect(s.bytes).toBe(0);
  });

  it('evicts the least recently used beyond maxEntries', () => {
    const s = new ResponseStore({ maxEntries: 2, maxBytes: 1 << 20, ttlMs: 60_000 });
    s.put('a', entry());
    s.put('b', entry());
    s.get('a'); // a is now the most recently used
    s.put('c', entry());
    expect(s.get('b')).toBeUndefined();
    expect(s.get('a')).toBeDefined();
    expect(s.get('c')).toBeDefined();
    expect(s.size).toBe(2);
  });

  it('evicts the oldest beyond maxBytes, and refuses an entry larger than maxBytes alone', () => {
    const one = entryBytes('a', entry('x'.repeat(100)));
    const s = new ResponseStore({ maxEntries: 100, maxBytes: one * 2 + 10, ttlMs: 60_000 });
    s.put('a', entry('x'.repeat(100)));
    s.put('b', entry('x'.repeat(100)));
    expect(s.size).toBe(2);
    s.put('c', entry('x'.repeat(100)));
    expect(s.get('a')).toBeUndefined();
    expect(s.size).toBe(2);
    expect(s.bytes).toBeLessThanOrEqual(one * 2 + 10);
    expect(s.put('huge', entry('x'.repeat(one * 3)))).toBe(false);
    expect(s.get('huge')).toBeUndefined();
    expect(s.size).toBe(2);
  });

  it('forgets entries after the TTL (counted from the put), on read and by the sweep on put', () => {
    const c = clock();
    const s = new ResponseStore({ maxEntries: 100, maxBytes: 1 << 20, ttlMs: 1_000, now: c.now });
    s.put('a', entry());
    c.advance(600);
    s.put('b', entry());
    expect(s.get('a')).toBeDefined(); // a read does not extend the TTL
    c.advance(400);
    expect(s.get('a')).toBeUndefined();
    expect(s.get('b')).toBeDefined();
    c.advance(600);
    s.put('c', entry());
    expect(s.size).toBe(1); // b went by the sweep
    expect(s.inputItems('b')).toBeUndefined();
  });

  it('lists the input items of a stored response', () => {
    const s = new ResponseStore({ maxEntries: 10, maxBytes: 1 << 20, ttlMs: 60_000 });
    s.put('resp_abc', entry('hello'));
    expect(s.inputItems('resp_abc')).toEqual({
      object: 'list',
      data: [{ id: 'msg_abc_0', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'hello' }] }],
      first_id: 'msg_abc_0',
      last_id: 'msg_abc_0',
      has_more: false,
    });
  });
});
