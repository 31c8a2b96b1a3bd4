/**
 * The Anthropic translation of what real OpenAI clients send and Anthropic
 * refuses as it is (issue 10): base URLs in both conventions, conversations
 * normalised, whitespace stop sequences emulated, legacy functions,
 * reasoning_effort, structured outputs and max_tokens defaults.
 */
import { describe, expect, it } from '@jest/globals';
import { anthropicAdapter, messagesURL } from './anthropic.ts';
import { CONVERSATION_START, EMPTY_MESSAGE, structuredOutputsTake } from './anthropic-request.ts';
import type { ProviderTarget, SseEvent, StreamStep } from './types.ts';

type Body = Record<string, unknown>;
const target: ProviderTarget = { provider: 'anthropic', model: 'claude-sonnet-4-5', baseURL: 'https://api.anthropic.com/v1' };

function translate(body: Body, t: Partial<ProviderTarget> = {}, stream = false): Body {
  return JSON.parse(anthropicAdapter.buildRequest('chat', { model: 'chat', ...body }, { ...target, ...t }, { stream }).body) as Body;
}

const user = (content: unknown) => ({ role: 'user', content });
const assistant = (content: unknown) => ({ role: 'assistant', content });
const text = (t: string) => ({ type: 'text', text: t });

describe('base URL: with or without /v1', () => {
  it.each([
    ['https://api.anthropic.com/v1', 'https://api.anthropic.com/v1/messages'],
    ['https://api.anthropic.com/v1/', 'https://api.anthropic.com/v1/messages'],
    ['https://api.anthropic.com', 'https://api.anthropic.com/v1/messages'],
    ['https://api.anthropic.com/', 'https://api.anthropic.com/v1/messages'],
    ['http://gateway:8080/anthropic', 'http://gateway:8080/anthropic/v1/messages'],
  ])('%s -> %s', (base, url) => {
    expect(messagesURL(base)).toBe(url);
    expect(anthropicAdapter.buildRequest('chat', { model: 'c', messages: [user('x')] }, { ...target, baseURL: base }, { stream: false }).url).toBe(url);
  });
});

describe('Accept', () => {
  it('asks for an event stream on streams and for JSON otherwise', () => {
    const req = (stream: boolean) => anthropicAdapter.buildRequest('chat', { model: 'c', messages: [user('x')] }, target, { stream });
    expect(req(true).headers.accept).toBe('text/event-stream');
    expect(req(false).headers.accept).toBe('application/json');
  });
});

describe('conversations normalised for Anthropic', () => {
  it('a history that starts with an assistant turn gets a user turn before it', () => {
    expect(translate({ messages: [assistant('Hi! How can I help?'), user('Weather?')] }).messages).toEqual([
      { role: 'user', content: [text(CONVERSATION_START)] },
      { role: 'assistant', content: [text('Hi! How can I help?')] },
      { role: 'user', content: [text('Weather?')] },
    ]);
  });

  it('consecutive turns of one role merge, keeping block order; tool results stay first', () => {
    const out = translate({
      messages: [
        user('a'),
        user([text('b'), { type: 'image_url', image_url: { url: 'https://x/i.png' } }]),
        assistant('c'),
        assistant(null),
        { role: 'assistant', content: 'd', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'r' },
        user('e'),
      ],
    });
    expect(out.messages).toEqual([
      { role: 'user', content: [text('a'), text('b'), { type: 'image', source: { type: 'url', url: 'https://x/i.png' } }] },
      { role: 'assistant', content: [text('c'), text('d'), { type: 'tool_use', id: 'call_1', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'r' }, text('e')] },
    ]);
  });

  it('a system-only request sends the system text as the user turn', () => {
    const out = translate({ messages: [{ role: 'system', content: 'Summarise the rules.' }, { role: 'developer', content: 'Be brief.' }] });
    expect(out.system).toBeUndefined();
    expect(out.messages).toEqual([{ role: 'user', content: [text('Summarise the rules.\n\nBe brief.')] }]);
  });

  it('empty and whitespace content is dropped; a request left with nothing gets EMPTY_MESSAGE', () => {
    expect(translate({ messages: [user(''), assistant(''), user('  ')] }).messages).toEqual([{ role: 'user', content: [text(EMPTY_MESSAGE)] }]);
    expect(translate({ messages: [user('q'), assistant(''), user('again')] }).messages).toEqual([{ role: 'user', content: [text('q'), text('again')] }]);
  });

  it('a final assistant prefill that is only whitespace goes', () => {
    expect(translate({ messages: [user('q'), assistant([text('   ')])] }).messages).toEqual([{ role: 'user', content: [text('q')] }]);
    expect(translate({ messages: [user('q'), assistant([text('a'), text(' \n')])] }).messages).toEqual([
      { role: 'user', content: [text('q')] },
      { role: 'assistant', content: [text('a')] },
    ]);
  });

  it('leaves a request without messages to Anthropic (its 400 names the problem)', () => {
    expect(translate({ messages: [] }).messages).toEqual([]);
  });
});

describe('max_tokens', () => {
  it("the client's first, then the target's maxTokens, then the model's documented limit", () => {
    expect(translate({ messages: [user('x')], max_tokens: 10 }, { maxTokens: 500 }).max_tokens).toBe(10);
    expect(translate({ messages: [user('x')] }, { maxTokens: 500 }).max_tokens).toBe(500);
    expect(translate({ messages: [user('x')] }).max_tokens).toBe(64000);
    expect(translate({ messages: [user('x')] }, { model: 'claude-opus-4-1' }).max_tokens).toBe(32000);
    expect(translate({ messages: [user('x')] }, { model: 'claude-3-5-haiku-latest' }).max_tokens).toBe(8192);
    expect(translate({ messages: [user('x')] }, { model: 'claude-3-haiku-20240307' }).max_tokens).toBe(4096);
    expect(translate({ messages: [user('x')] }, { model: 'some-alias' }).max_tokens).toBe(4096);
  });
});

describe('stop sequences Anthropic refuses', () => {
  it('whitespace-only sequences are not sent; the others are', () => {
    expect(translate({ messages: [user('x')], stop: ['\n'] }).stop_sequences).toBeUndefined();
    expect(translate({ messages: [user('x')], stop: ['\n\n', 'END', ' '] }).stop_sequences).toEqual(['END']);
    expect(translate({ messages: [user('x')], stop: '\n' }).stop_sequences).toBeUndefined();
  });

  const message = (content: unknown[], stop_reason = 'end_turn') =>
    JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content, stop_reason, usage: { input_tokens: 3, output_tokens: 9 } });

  function parse(body: string, request: Body): Body {
    const res = anthropicAdapter.parseResponse('chat', 200, body, target, request);
    if (!res.ok) throw new Error('expected ok');
    return JSON.parse(res.body) as Body;
  }

  it('a whole answer is cut at the first one, finish_reason stop', () => {
    const out = parse(message([text('line one\nline two')], 'max_tokens'), { stop: ['\n'] }) as { choices: Array<{ message: Body; finish_reason: string }> };
    expect(out.choices[0]!.message.content).toBe('line one');
    expect(out.choices[0]!.finish_reason).toBe('stop');
    // No sequence in the text: as it came.
    const plain = parse(message([text('one line')]), { stop: '\n' }) as { choices: Array<{ message: Body }> };
    expect(plain.choices[0]!.message.content).toBe('one line');
  });

  it('a stream is cut across chunk boundaries and ends there: finish stop, usage, finished', () => {
    const d = anthropicAdapter.createStreamDecoder(target, { stop: ['\n\n'], stream_options: { include_usage: true } });
    const steps: StreamStep[] = [
      ev('message_start', { message: { id: 'msg_1', model: 'm', usage: { input_tokens: 7, output_tokens: 1 } } }),
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      ...['Hel', 'lo\n', '\nSecond', ' part'].map((t) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: t } })),
    ].map((e) => d.push(e));
    const deltas = steps.flatMap((s) => s.out).map((o) => JSON.parse(o) as { choices: Array<{ delta: Body; finish_reason: string | null }>; usage?: Body });
    expect(deltas.map((c) => c.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { content: 'Hel' }, { content: 'lo' }, {}, undefined]);
    expect(deltas[3]!.choices[0]!.finish_reason).toBe('stop');
    expect(deltas[4]!.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(steps[4]).toMatchObject({ finished: true, content: true, usage: { prompt: 7, completion: 3 } });
    expect(steps[5]!.out).toEqual([]); // after the stop: nothing
    // Held text that is not a stop goes out before a tool call and at the end.
    const d2 = anthropicAdapter.createStreamDecoder(target, { stop: ['\n\n'] });
    const out2 = [
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'a\n' } }),
      ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }),
    ].flatMap((e) => d2.push(e).out).map((o) => (JSON.parse(o) as { choices: Array<{ delta: Body }> }).choices[0]!.delta);
    expect(out2).toEqual([{ content: 'a' }, { content: '\n' }, {}]);
  });
});

function ev(type: string, data: Body): SseEvent {
  return { event: type, data: JSON.stringify({ type, ...data }) };
}

describe('legacy functions', () => {
  const weather = { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

  it('a tool_use answer comes back as function_call, finish_reason function_call', () => {
    const body = JSON.stringify({
      id: 'msg_1', type: 'message', role: 'assistant', model: 'm', stop_reason: 'tool_use', usage: { input_tokens: 1, output_tokens: 1 },
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }],
    });
    const res = anthropicAdapter.parseResponse('chat', 200, body, target, { functions: [weather] });
    if (!res.ok) throw new Error('expected ok');
    const choice = JSON.parse(res.body).choices[0];
    expect(choice.message).toEqual({ role: 'assistant', content: null, refusal: null, function_call: { name: 'get_weather', arguments: '{"city":"Oslo"}' } });
    expect(choice.finish_reason).toBe('function_call');
    // With tools it stays tool_calls.
    const modern = anthropicAdapter.parseResponse('chat', 200, body, target, { tools: [{ type: 'function', function: weather }] });
    expect(modern.ok && JSON.parse(modern.body).choices[0].message.tool_calls).toHaveLength(1);
  });

  it('a stream gives function_call deltas (the first call only) and finish_reason function_call', () => {
    const d = anthropicAdapter.createStreamDecoder(target, { functions: [weather] });
    const deltas = [
      ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } }),
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"city":' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '"Oslo"}' } }),
      ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} } }),
      ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{}' } }),
      ev('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } }),
    ].flatMap((e) => d.push(e).out).map((o) => JSON.parse(o).choices[0]);
    expect(deltas.map((c) => c.delta)).toEqual([
      { function_call: { name: 'get_weather', arguments: '' } },
      { function_call: { arguments: '{"city":' } },
      { function_call: { arguments: '"Oslo"}' } },
      {},
    ]);
    expect(deltas[3].finish_reason).toBe('function_call');
  });

  it('asks Anthropic for one call at a time', () => {
    expect(translate({ messages: [user('x')], functions: [weather] }).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });
});

describe('reasoning_effort -> extended thinking', () => {
  it('budget models: thinking with the documented budget, max_tokens raised above it, no temperature', () => {
    const out = translate({ messages: [user('x')], reasoning_effort: 'medium', max_tokens: 1000, temperature: 0.2, top_p: 0.5 });
    expect(out.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
    expect(out.max_tokens).toBe(5096);
    expect(out.temperature).toBeUndefined();
    expect(out.top_p).toBeUndefined();
    expect(translate({ messages: [user('x')], reasoning_effort: 'high', top_p: 0.97 }).top_p).toBe(0.97);
    // Without a client max_tokens the model's limit is above every budget.
    expect(translate({ messages: [user('x')], reasoning_effort: 'high' })).toMatchObject({ max_tokens: 64000, thinking: { type: 'enabled', budget_tokens: 16384 } });
    expect(translate({ messages: [user('x')], reasoning_effort: 'low', max_tokens: 5000 })).toMatchObject({ max_tokens: 5000, thinking: { budget_tokens: 1024 } });
  });

  it('adaptive models: thinking adaptive and output_config.effort', () => {
    const out = translate({ messages: [user('x')], reasoning_effort: 'low', max_tokens: 100 }, { model: 'claude-opus-4-7' });
    expect(out).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' }, max_tokens: 100 });
  });

  it('none, minimal, models without thinking, forced tools, prefills and foreign tool loops: no thinking', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    for (const body of [
      { messages: [user('x')], reasoning_effort: 'minimal' },
      { messages: [user('x')], reasoning_effort: 'none' },
      { messages: [user('x')], reasoning_effort: 'high', tools, tool_choice: 'required' },
      { messages: [user('x'), assistant('Sure:')], reasoning_effort: 'high' },
      {
        messages: [user('x'), { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c', content: 'r' }],
        reasoning_effort: 'high',
        tools,
      },
    ]) {
      expect(translate(body).thinking).toBeUndefined();
    }
    expect(translate({ messages: [user('x')], reasoning_effort: 'high', temperature: 0.3 }, { model: 'claude-3-5-sonnet-20241022' })).toMatchObject({ temperature: 0.3 });
    expect(translate({ messages: [user('x')], reasoning_effort: 'high' }, { model: 'claude-3-5-sonnet-20241022' }).thinking).toBeUndefined();
  });

  it('thinking output streams as reasoning_content, before the content, and is not the commit point', () => {
    const d = anthropicAdapter.createStreamDecoder(target, {});
    const steps = [
      ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm.' } }),
      ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
      ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Answer' } }),
    ].map((e) => d.push(e));
    expect(steps.map((s) => s.content)).toEqual([false, false, false, true]);
    expect(steps.flatMap((s) => s.out).map((o) => JSON.parse(o).choices[0].delta)).toEqual([{ reasoning_content: 'Hmm.' }, { content: 'Answer' }]);
  });
});

describe('response_format json_schema -> structured outputs', () => {
  const strict = {
    type: 'object',
    properties: { city: { type: 'string' }, tags: { type: 'array', items: { type: 'object', properties: { t: { type: 'string' } }, required: ['t'], additionalProperties: false } } },
    required: ['city', 'tags'],
    additionalProperties: false,
  };
  const rf = (schema: unknown) => ({ type: 'json_schema', json_schema: { name: 'x', strict: true, schema } });

  it('models with structured outputs get output_config.format and no instruction', () => {
    const out = translate({ messages: [user('x')], response_format: rf(strict) });
    expect(out.output_config).toEqual({ format: { type: 'json_schema', schema: strict } });
    expect(out.system).toBeUndefined();
  });

  it('older models, and schemas structured outputs refuse, keep the instruction', () => {
    const old = translate({ messages: [user('x')], response_format: rf(strict) }, { model: 'claude-3-5-sonnet-20241022' });
    expect(old.output_config).toBeUndefined();
    expect(old.system).toMatch(/conforms to this JSON schema/);
    const open = translate({ messages: [user('x')], response_format: rf({ type: 'object', properties: { a: { type: 'number' } } }) });
    expect(open.output_config).toBeUndefined();
    expect(open.system).toMatch(/conforms to this JSON schema/);
  });

  it('structuredOutputsTake: closed objects without refused keywords', () => {
    expect(structuredOutputsTake(strict)).toBe(true);
    expect(structuredOutputsTake({ ...strict, properties: { n: { type: 'integer', minimum: 1 } } })).toBe(false);
    expect(structuredOutputsTake({ type: 'object', properties: {}, additionalProperties: true })).toBe(false);
    expect(structuredOutputsTake({ anyOf: [{ type: 'string' }, { type: 'null' }] })).toBe(true);
    expect(structuredOutputsTake({ type: 'object', properties: { o: { type: 'object', properties: {} } }, additionalProperties: false })).toBe(false);
  });

  it('thinking and a format share output_config', () => {
    expect(translate({ messages: [user('x')], response_format: rf(strict), reasoning_effort: 'high' }, { model: 'claude-sonnet-4-6' }).output_config).toEqual({
      format: { type: 'json_schema', schema: strict },
      effort: 'high',
    });
  });
});
