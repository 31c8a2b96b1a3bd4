/**
 * The fake Anthropic refuses what the real Messages API refuses (issue 10),
 * with Anthropic's error body, so a translation bug cannot pass against a
 * lenient fake; and the fake OpenAI-compatible server can negotiate on Accept.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { validate } from './wire-anthropic.ts';
import { startFakeProvider, type FakeProvider } from './fake-provider.ts';

const u = (content: unknown) => ({ role: 'user', content });
const a = (content: unknown) => ({ role: 'assistant', content });
const ok = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [u('hi')] };

function refusal(body: Record<string, unknown>): string | undefined {
  const e = validate({ ...ok, ...body });
  if (!e) return undefined;
  expect(e.status).toBe(400);
  const parsed = JSON.parse(e.body);
  expect(parsed).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  return parsed.error.message as string;
}

describe('the fake Anthropic refuses what Anthropic refuses', () => {
  it.each([
    ['a first message that is not the user', { messages: [a('Hello'), u('hi')] }, 'first message must use the "user" role'],
    ['roles that do not alternate', { messages: [u('a'), u('b')] }, 'roles must alternate between "user" and "assistant"'],
    ['empty string content', { messages: [u(''), a('x'), u('y')] }, 'all messages must have non-empty content'],
    ['an empty content array', { messages: [u([])] }, 'all messages must have non-empty content'],
    ['an empty text block', { messages: [u([{ type: 'text', text: '' }])] }, 'text content blocks must be non-empty'],
    ['a whitespace-only text block', { messages: [u('  ')] }, 'text content blocks must contain non-whitespace text'],
    ['a final assistant turn ending in whitespace', { messages: [u('q'), a('Sure, ')] }, 'final assistant content cannot end with trailing whitespace'],
    ['no messages', { messages: [] }, 'at least one message is required'],
    ['missing max_tokens', { max_tokens: undefined }, 'max_tokens: Field required'],
    ['a whitespace-only stop sequence', { stop_sequences: ['\n'] }, 'each stop sequence must contain non-whitespace'],
    ['max_tokens above the model limit', { max_tokens: 64001 }, 'max_tokens: 64001 > 64000'],
    ['temperature on Opus 4.7', { model: 'claude-opus-4-7', temperature: 0.5 }, '`temperature` is deprecated for this model.'],
    ['top_p on Sonnet 5', { model: 'claude-sonnet-5', top_p: 0.9 }, '`top_p` is deprecated for this model.'],
    ['top_k on Opus 5', { model: 'claude-opus-5', top_k: 5 }, '`top_k` is deprecated for this model.'],
    ['temperature and top_p together on Sonnet 4.5', { temperature: 0.5, top_p: 0.9 }, 'cannot both be specified'],
    ['a thinking budget not below max_tokens', { thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 1024 }, 'must be greater than `thinking.budget_tokens`'],
    ['temperature with thinking', { thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 2000, temperature: 0.5 }, 'may only be set to 1 when thinking'],
    ['budget thinking on Opus 4.7', { model: 'claude-opus-4-7', thinking: { type: 'enabled', budget_tokens: 2000 }, max_tokens: 4000 }, 'thinking.type.enabled is not supported'],
    ['thinking on Claude 3.5', { model: 'claude-3-5-sonnet-20241022', thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 4000 }, 'not supported'],
    ['a forced tool with thinking', { thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 4000, tool_choice: { type: 'any' } }, 'tool_choice forces tool use'],
    ['structured outputs on Claude 3.5', { model: 'claude-3-5-sonnet-20241022', output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: {}, additionalProperties: false } } } }, 'not supported'],
    ['an open object schema', { output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: {} } } } }, "'additionalProperties' must be explicitly set to false"],
    ['a tool_result without its tool_use', { messages: [u('q'), a('x'), u([{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'r' }])] }, 'unexpected `tool_use_id`'],
    [
      'a tool_use without its tool_result',
      { messages: [u('q'), a([{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }]), u('and?')] },
      'ids were found without `tool_result` blocks immediately after: toolu_1',
    ],
  ])('%s', (_what, body, message) => {
    expect(refusal(body)).toContain(message);
  });

  it.each([
    ['a plain request', {}],
    ['a prefill', { messages: [u('q'), a('Sure:')] }],
    ['a paired tool loop', { messages: [u('q'), a([{ type: 'tool_use', id: 't1', name: 'f', input: {} }]), u([{ type: 'tool_result', tool_use_id: 't1' }])] }],
    ['adaptive thinking with effort on Opus 4.7', { model: 'claude-opus-4-7', thinking: { type: 'adaptive' }, output_config: { effort: 'low' } }],
    ['thinking with top_p 0.95', { thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 2000, top_p: 0.95 }],
    ['a closed schema on Sonnet 4.5', { output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false } } } }],
    ['any max_tokens on a model it does not know', { model: 'claude-test', max_tokens: 1_000_000, temperature: 1 }],
  ])('takes %s', (_what, body) => {
    expect(refusal(body)).toBeUndefined();
  });
});

describe('the fake OpenAI-compatible server negotiating on Accept', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await startFakeProvider({ flavor: 'openai', name: 'negotiating', negotiateAccept: true });
  });
  afterAll(() => fake.close());

  const post = (accept?: string) =>
    fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) },
      body: JSON.stringify({ model: 'm', stream: true, messages: [u('hi')] }),
    });

  it('answers a stream request JSON without Accept: text/event-stream, SSE with it', async () => {
    expect((await post()).headers.get('content-type')).toMatch(/^application\/json/);
    expect((await post('application/json')).headers.get('content-type')).toMatch(/^application\/json/);
    const sse = await post('text/event-stream');
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await sse.text()).toContain('data: [DONE]');
  });
});
