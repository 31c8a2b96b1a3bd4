import { affinityHash, hashChars, promptPrefixHash, rendezvousScore } from './affinity.ts';
import type { AffinityPolicy } from './config/runtime-config.ts';

const header: AffinityPolicy = { key: 'header', header: 'x-llmroute-session', prefixChars: 1024 };
const user: AffinityPolicy = { key: 'user', header: 'x-llmroute-session', prefixChars: 1024 };
const prefix = (n: number): AffinityPolicy => ({ key: 'promptPrefix', header: 'x-llmroute-session', prefixChars: n });

describe('affinityHash', () => {
  it('header: the named header, the first of repeated ones; none or empty: no key', () => {
    expect(affinityHash(header, {}, { 'x-llmroute-session': 's1' })).toBe(hashChars('s1'));
    expect(affinityHash(header, {}, { 'x-llmroute-session': ['s1', 's2'] })).toBe(hashChars('s1'));
    expect(affinityHash(header, {}, { 'x-llmroute-session': '' })).toBeUndefined();
    expect(affinityHash(header, {}, {})).toBeUndefined();
  });

  it('user: prompt_cache_key, then user, then safety_identifier (Chat, Responses), then metadata.user_id (Messages)', () => {
    expect(affinityHash(user, { prompt_cache_key: 'k', user: 'u' }, {})).toBe(hashChars('k'));
    expect(affinityHash(user, { user: 'u' }, {})).toBe(hashChars('u'));
    expect(affinityHash(user, { safety_identifier: 'si' }, {})).toBe(hashChars('si'));
    expect(affinityHash(user, { metadata: { user_id: 'm' } }, {})).toBe(hashChars('m'));
    expect(affinityHash(user, { user: 42 }, {})).toBeUndefined();
  });

  it('promptPrefix: the same start is the same key, whatever comes after prefixChars', () => {
    const sys = 'You are a helpful assistant. '.repeat(10);
    const a = { messages: [{ role: 'system', content: sys }, { role: 'user', content: 'first question' }] };
    const b = { messages: [...a.messages, { role: 'assistant', content: 'answer' }, { role: 'user', content: 'second' }] };
    expect(affinityHash(prefix(64), a, {})).toBe(affinityHash(prefix(64), b, {}));
    expect(affinityHash(prefix(4096), a, {})).not.toBe(affinityHash(prefix(4096), b, {}));
    expect(affinityHash(prefix(64), { messages: [{ role: 'system', content: 'Another prompt entirely. '.repeat(5) }] }, {})).not.toBe(affinityHash(prefix(64), a, {}));
  });

  it('promptPrefix reads each API: Chat parts, Messages system blocks, Responses instructions and input', () => {
    const text = 'Summarise the attached report in three bullet points.';
    const chat = promptPrefixHash({ messages: [{ role: 'user', content: [{ type: 'text', text }] }] }, 1024);
    const messages = promptPrefixHash({ system: [{ type: 'text', text }], messages: [] }, 1024);
    const responses = promptPrefixHash({ instructions: text, input: 'hi' }, 1024);
    const responsesItems = promptPrefixHash({ input: [{ role: 'user', content: [{ type: 'input_text', text }] }] }, 1024);
    expect(chat).toBeDefined();
    expect(messages).toBe(chat);
    expect(responsesItems).toBe(chat);
    expect(responses).not.toBe(chat); // instructions, then input's 'hi'
    expect(promptPrefixHash({ prompt: text }, 1024)).toBe(chat);
    expect(promptPrefixHash({ messages: [] }, 1024)).toBeUndefined();
  });

  it('piece boundaries count: ["ab","c"] is not ["a","bc"]', () => {
    expect(promptPrefixHash({ messages: [{ content: 'ab' }, { content: 'c' }] }, 100)).not.toBe(promptPrefixHash({ messages: [{ content: 'a' }, { content: 'bc' }] }, 100));
  });
});

describe('rendezvousScore', () => {
  const targets = ['a', 'b', 'c', 'd'].map((n) => hashChars(n));
  const best = (key: number, weights: number[], out = new Set<number>()): number => {
    let bi = -1;
    let bs = -Infinity;
    targets.forEach((t, i) => {
      if (out.has(i)) return;
      const s = rendezvousScore(key, t, weights[i]!);
      if (s > bs) [bi, bs] = [i, s];
    });
    return bi;
  };

  it('spreads keys by weight', () => {
    const counts = [0, 0, 0, 0];
    for (let k = 0; k < 20_000; k++) counts[best(hashChars(`session-${k}`), [1, 1, 2, 4])]!++;
    expect(counts[0]! / 20_000).toBeCloseTo(1 / 8, 1);
    expect(counts[2]! / 20_000).toBeCloseTo(2 / 8, 1);
    expect(counts[3]! / 20_000).toBeCloseTo(4 / 8, 1);
  });

  it('a target going out moves only its own keys', () => {
    let moved = 0;
    for (let k = 0; k < 5000; k++) {
      const key = hashChars(`s${k}`);
      const before = best(key, [1, 1, 1, 1]);
      const after = best(key, [1, 1, 1, 1], new Set([1]));
      if (before !== 1) expect(after).toBe(before);
      else moved++;
    }
    expect(moved / 5000).toBeCloseTo(0.25, 1);
  });
});
