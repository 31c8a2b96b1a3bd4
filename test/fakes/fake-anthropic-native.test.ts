/**
 * What native Messages pass-through (issue 11) needs of the fake Anthropic,
 * checked as the real API checks it: thinking signatures issued and taken
 * back (an unknown one is a 400), prompt caching of cache_control prefixes,
 * tool_result pairing, documents, pings, count_tokens, and the
 * anthropic-beta header recorded.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startFakeProvider, type FakeProvider } from './fake-provider.ts';

const KEY = 'sk-ant-fake-native';
let fake: FakeProvider;

beforeAll(async () => {
  fake = await startFakeProvider({ flavor: 'anthropic', expectKey: KEY });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const u = (content: unknown) => ({ role: 'user', content });
const a = (content: unknown) => ({ role: 'assistant', content });
const THINKING = { type: 'enabled', budget_tokens: 2048 };

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`http://${fake.host}:${fake.port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

const messages = (body: Record<string, unknown>, headers?: Record<string, string>) =>
  post('/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 4096, ...body }, headers);

describe('fake Anthropic for native pass-through', () => {
  it('answers thinking with a signed block and takes the signature back, refusing one it did not issue', async () => {
    const first = await messages({ thinking: THINKING, messages: [u('hi')] });
    expect(first.status).toBe(200);
    const msg = JSON.parse(first.text);
    const thinking = msg.content[0];
    expect(thinking).toMatchObject({ type: 'thinking', signature: expect.stringMatching(/^EqQB/) });
    const next = [u('hi'), a(msg.content), u('and?')];
    expect((await messages({ thinking: THINKING, messages: next })).status).toBe(200);
    const forged = await messages({ thinking: THINKING, messages: [u('hi'), a([{ ...thinking, signature: 'forged' }, msg.content[1]]), u('and?')] });
    expect(forged.status).toBe(400);
    expect(JSON.parse(forged.text).error).toEqual({ type: 'invalid_request_error', message: 'messages.1.content.0: Invalid `signature` in `thinking` block' });
  });

  it('streams thinking_delta and signature_delta, with a ping, and the streamed signature is taken back', async () => {
    const res = await messages({ thinking: THINKING, stream: true, messages: [u('hi')] });
    expect(res.status).toBe(200);
    const names = [...res.text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(names).toContain('ping');
    expect(res.text).toContain('"type":"thinking_delta"');
    const signature = /"signature_delta","signature":"([^"]+)"/.exec(res.text)![1]!;
    const thought = [...res.text.matchAll(/"thinking_delta","thinking":("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!)).join('');
    const back = await messages({ thinking: THINKING, messages: [u('hi'), a([{ type: 'thinking', thinking: thought, signature }, { type: 'text', text: 'x' }]), u('more')] });
    expect(back.status).toBe(200);
  });

  it('reads a repeated cache_control prefix from the cache', async () => {
    const system = [{ type: 'text', text: 'A long and stable system prompt with many words in it', cache_control: { type: 'ephemeral' } }];
    const first = JSON.parse((await messages({ system, messages: [u('one')] })).text).usage;
    const second = JSON.parse((await messages({ system, messages: [u('two')] })).text).usage;
    expect(first.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(first.cache_read_input_tokens).toBe(0);
    expect(second).toMatchObject({ cache_read_input_tokens: first.cache_creation_input_tokens, cache_creation_input_tokens: 0 });
    const plain = JSON.parse((await messages({ messages: [u('three')] })).text).usage;
    expect(plain).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  it('refuses a tool_result without its tool_use in the previous turn, with the real wording', async () => {
    const res = await messages({ messages: [u('hi'), a('hello'), u([{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'r' }])] });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.message).toBe(
      'messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_x. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
    );
  });

  it('takes documents and records the anthropic-beta header', async () => {
    const doc = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQK' } };
    const res = await messages({ messages: [u([doc, { type: 'text', text: 'Summarise' }])] }, { 'anthropic-beta': 'pdfs-2024-09-25' });
    expect(res.status).toBe(200);
    expect(fake.requests[0]!.headers['anthropic-beta']).toBe('pdfs-2024-09-25');
  });

  it('serves count_tokens, refusing what the real endpoint refuses', async () => {
    const res = await post('/v1/messages/count_tokens', { model: 'claude-sonnet-4-5', messages: [u('count these words please')] });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ input_tokens: expect.any(Number) });
    expect(fake.requests[0]).toMatchObject({ endpoint: 'count_tokens', outcome: 'count-tokens' });
    const extra = await post('/v1/messages/count_tokens', { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [u('x')] });
    expect(extra.status).toBe(400);
    expect(JSON.parse(extra.text).error.message).toBe('max_tokens: Extra inputs are not permitted');
  });
});
