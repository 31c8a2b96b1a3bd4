import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { BadRequestError } from '../errors.ts';
import { Secret } from '../secret.ts';
import { anthropicAdapter } from './anthropic.ts';
import { CONVERSATION_START, EMPTY_MESSAGE, THINKING_BUDGETS } from './anthropic-request.ts';
import type { ProviderError, ProviderTarget, SseEvent, StreamStep } from './types.ts';

const KEY = 'sk-ant-api03-SECRETKEY0123456789';
const target: ProviderTarget = {
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  baseURL: 'https://api.anthropic.com/v1',
  apiKey: new Secret(KEY),
};
const NOW = 1_750_000_000_000;
const CREATED = Math.floor(NOW / 1000);

beforeEach(() => {
  jest.spyOn(Date, 'now').mockReturnValue(NOW);
});
afterEach(() => {
  jest.restoreAllMocks();
});

type Body = Record<string, unknown>;

/** The Anthropic body built for an OpenAI chat body. */
function translate(body: Body, stream = false): Body {
  return JSON.parse(anthropicAdapter.buildRequest('chat', { model: 'chat', ...body }, target, { stream }).body) as Body;
}

function badRequest(body: Body): BadRequestError {
  try {
    translate(body);
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequestError);
    return err as BadRequestError;
  }
  throw new Error('expected a BadRequestError');
}

const user = (content: unknown) => ({ role: 'user', content });

describe('anthropic buildRequest: wire basics', () => {
  it('posts to <baseURL>/messages with x-api-key and anthropic-version', () => {
    const req = anthropicAdapter.buildRequest('chat', { model: 'chat', messages: [user('Hello')] }, target, { stream: false });
    expect(req.url).toBe('https://api.anthropic.com/v1/messages');
    expect(req.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': KEY });
    expect(JSON.parse(req.body)).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 64000,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    });
  });

  it('sends no x-api-key without a key, and trims a trailing slash of the base URL', () => {
    const req = anthropicAdapter.buildRequest('chat', { model: 'c', messages: [user('x')] }, { ...target, apiKey: undefined, baseURL: 'http://proxy/v1/' }, { stream: false });
    expect(req.url).toBe('http://proxy/v1/messages');
    expect(req.headers['x-api-key']).toBeUndefined();
    expect(req.headers.authorization).toBeUndefined();
  });

  it('sets stream only for streams', () => {
    expect(translate({ messages: [user('x')], stream: true }, true).stream).toBe(true);
    expect(translate({ messages: [user('x')], stream: false }).stream).toBeUndefined();
    expect(translate({ messages: [user('x')], stream: true, stream_options: { include_usage: true } }, true).stream_options).toBeUndefined();
  });

  it('does not modify the client body', () => {
    const body = {
      model: 'chat',
      messages: [{ role: 'system', content: 'S' }, user('a'), user('b'), { role: 'assistant', content: 'x  ' }],
      tools: [{ type: 'function', function: { name: 'f' } }],
    };
    const copy = structuredClone(body);
    anthropicAdapter.buildRequest('chat', body, target, { stream: true });
    expect(body).toEqual(copy);
  });
});

describe('anthropic buildRequest: messages', () => {
  it('moves system and developer messages (text parts too) to a joined top-level system', () => {
    const out = translate({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }, { type: 'text', text: 'No emoji.' }] },
        user('Bonjour'),
        { role: 'system', content: 'Late rule.' },
      ],
    });
    expect(out.system).toBe('You are terse.\n\nAnswer in French.\n\nNo emoji.\n\nLate rule.');
    expect(out.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Bonjour' }] }]);
  });

  it('merges consecutive messages of the same role', () => {
    const out = translate({
      messages: [user('one'), user([{ type: 'text', text: 'two' }]), { role: 'assistant', content: 'a' }, { role: 'assistant', content: 'b' }, user('three')],
    });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      { role: 'user', content: [{ type: 'text', text: 'three' }] },
    ]);
  });

  it('drops empty text (Anthropic refuses empty text blocks)', () => {
    const out = translate({ messages: [user(''), user([{ type: 'text', text: '  ' }]), user('real'), { role: 'assistant', content: null }] });
    expect(out.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'real' }] }]);
  });

  it('trims trailing whitespace of a final assistant prefill', () => {
    const out = translate({ messages: [user('q'), { role: 'assistant', content: 'The answer is ' }] });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'q' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'The answer is' }] },
    ]);
  });

  it('translates images: data URLs to base64 sources, http(s) URLs to url sources', () => {
    const out = translate({
      messages: [
        user([
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          { type: 'image_url', image_url: 'http://example.com/dog.webp' },
        ]),
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          { type: 'image', source: { type: 'url', url: 'http://example.com/dog.webp' } },
        ],
      },
    ]);
  });

  it('translates inline PDF file parts to document blocks', () => {
    const out = translate({ messages: [user([{ type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' } }])] });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } }] },
    ]);
  });

  it.each([
    [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }, 'messages[0].content[0].image_url.url'],
    [{ type: 'image_url', image_url: { url: 'data:image/png,rawbytes' } }, 'messages[0].content[0].image_url.url'],
    [{ type: 'image_url', image_url: {} }, 'messages[0].content[0].image_url'],
    [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }, 'messages[0].content[0].type'],
    [{ type: 'file', file: { file_id: 'file-1' } }, 'messages[0].content[0].file'],
  ])('rejects the part %j naming %s', (part, param) => {
    const e = badRequest({ messages: [user([part])] });
    expect(e.param).toBe(param);
    expect(e.message).toContain(param.replace(/\.(url|type|file)$/, ''));
  });

  it('rejects unknown roles and non-object messages', () => {
    expect(badRequest({ messages: [{ role: 'wizard', content: 'x' }] }).param).toBe('messages[0].role');
    expect(badRequest({ messages: ['hi'] }).param).toBe('messages[0]');
  });
});

describe('anthropic buildRequest: tools', () => {
  const weatherTool = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Get the current weather in a given location',
      parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
    },
  };

  it('translates a multi-turn tool conversation (parallel calls, results merged into one user turn)', () => {
    const out = translate({
      messages: [
        { role: 'system', content: 'Use tools.' },
        user('Weather in Paris and Rome?'),
        {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C, cloudy' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '25C, sunny' }] },
        { role: 'assistant', content: 'Paris 18C, Rome 25C.' },
        user('Thanks'),
      ],
      tools: [weatherTool],
    });
    expect(out.system).toBe('Use tools.');
    expect(out.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Get the current weather in a given location',
        input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
      },
    ]);
    expect(out.tool_choice).toBeUndefined();
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18C, cloudy' },
          { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: '25C, sunny' }] },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'Paris 18C, Rome 25C.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
    ]);
  });

  it('keeps tool results first when a user message follows them, and omits empty results', () => {
    const out = translate({
      messages: [
        user('go'),
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'ping', arguments: '' } }] },
        { role: 'tool', tool_call_id: 'call_9', content: '' },
        user('and now?'),
      ],
      tools: [{ type: 'function', function: { name: 'ping', parameters: {} } }],
    });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'go' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_9', name: 'ping', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_9' }, { type: 'text', text: 'and now?' }] },
    ]);
    expect(out.tools).toEqual([{ name: 'ping', input_schema: { type: 'object' } }]);
  });

  it('moves a tool result that comes after user text in front of it', () => {
    const out = translate({
      messages: [
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        user('note'),
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
    });
    // (The history starts with an assistant turn: a CONVERSATION_START user turn goes first.)
    expect((out.messages as Body[])[2]).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'c1', content: 'ok' }, { type: 'text', text: 'note' }],
    });
  });

  it('makes foreign tool ids valid for Anthropic, the same way on both sides', () => {
    const out = translate({
      messages: [
        { role: 'assistant', tool_calls: [{ id: 'functions.get:0', type: 'function', function: { name: 'get', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'functions.get:0', content: 'x' },
      ],
    });
    const [, a, u] = out.messages as Array<{ content: Body[] }>;
    expect(a?.content[0]?.id).toBe('functions_get_0');
    expect(u?.content[0]?.tool_use_id).toBe('functions_get_0');
  });

  it('rejects tool call arguments that are not JSON, naming the param', () => {
    const e = badRequest({
      messages: [user('x'), { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }],
    });
    expect(e.param).toBe('messages[1].tool_calls[0].function.arguments');
    expect(e.message).toMatch(/not valid JSON/);
    const arr = badRequest({ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] }] });
    expect(arr.param).toBe('messages[0].tool_calls[0].function.arguments');
  });

  it('rejects a tool message without tool_call_id and non-function tools', () => {
    expect(badRequest({ messages: [{ role: 'tool', content: 'x' }] }).param).toBe('messages[0].tool_call_id');
    expect(badRequest({ messages: [user('x')], tools: [{ type: 'custom', custom: { name: 'x' } }] }).param).toBe('tools[0]');
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    ['required', { type: 'any' }],
    [{ type: 'function', function: { name: 'get_weather' } }, { type: 'tool', name: 'get_weather' }],
  ])('tool_choice %j -> %j', (choice, expected) => {
    expect(translate({ messages: [user('x')], tools: [weatherTool], tool_choice: choice }).tool_choice).toEqual(expected);
  });

  it('parallel_tool_calls: false -> disable_parallel_tool_use', () => {
    expect(translate({ messages: [user('x')], tools: [weatherTool], parallel_tool_calls: false }).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(translate({ messages: [user('x')], tools: [weatherTool], tool_choice: 'required', parallel_tool_calls: false }).tool_choice).toEqual({
      type: 'any',
      disable_parallel_tool_use: true,
    });
    expect(translate({ messages: [user('x')], tools: [weatherTool], tool_choice: 'none', parallel_tool_calls: false }).tool_choice).toEqual({ type: 'none' });
    expect(translate({ messages: [user('x')], tools: [weatherTool], parallel_tool_calls: true }).tool_choice).toBeUndefined();
  });

  it('sends no tool_choice without tools', () => {
    const out = translate({ messages: [user('x')], tool_choice: 'required' });
    expect(out.tools).toBeUndefined();
    expect(out.tool_choice).toBeUndefined();
  });

  it('translates legacy functions, function_call and role function', () => {
    const out = translate({
      messages: [
        user('weather?'),
        { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"location":"Oslo"}' } },
        { role: 'function', name: 'get_weather', content: '-3C' },
      ],
      functions: [weatherTool.function],
      function_call: { name: 'get_weather' },
    });
    expect(out.tools).toEqual([{ name: 'get_weather', description: weatherTool.function.description, input_schema: weatherTool.function.parameters }]);
    // One call at a time: a function_call answer holds one.
    expect(out.tool_choice).toEqual({ type: 'tool', name: 'get_weather', disable_parallel_tool_use: true });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_fn_1', name: 'get_weather', input: { location: 'Oslo' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_fn_1', content: '-3C' }] },
    ]);
  });
});

describe('anthropic buildRequest: parameters', () => {
  it('max_tokens: max_completion_tokens first, then max_tokens, else the default', () => {
    expect(translate({ messages: [user('x')] }).max_tokens).toBe(64000);
    expect(translate({ messages: [user('x')], max_tokens: 100 }).max_tokens).toBe(100);
    expect(translate({ messages: [user('x')], max_tokens: 100, max_completion_tokens: 200 }).max_tokens).toBe(200);
  });

  it('clamps temperature to 0..1 and sends top_p only without temperature', () => {
    expect(translate({ messages: [user('x')], temperature: 0.7 }).temperature).toBe(0.7);
    expect(translate({ messages: [user('x')], temperature: 1.8 }).temperature).toBe(1);
    expect(translate({ messages: [user('x')], temperature: 0 }).temperature).toBe(0);
    const both = translate({ messages: [user('x')], temperature: 0.5, top_p: 0.9 });
    expect([both.temperature, both.top_p]).toEqual([0.5, undefined]);
    expect(translate({ messages: [user('x')], top_p: 0.9 }).top_p).toBe(0.9);
  });

  it('stop -> stop_sequences, user -> metadata.user_id', () => {
    expect(translate({ messages: [user('x')], stop: 'END' }).stop_sequences).toEqual(['END']);
    expect(translate({ messages: [user('x')], stop: ['a', 'b', ''] }).stop_sequences).toEqual(['a', 'b']);
    expect(translate({ messages: [user('x')], stop: null }).stop_sequences).toBeUndefined();
    expect(translate({ messages: [user('x')], user: 'user-42' }).metadata).toEqual({ user_id: 'user-42' });
  });

  it('ignores harmless OpenAI-only knobs', () => {
    const out = translate({
      messages: [user('x')],
      presence_penalty: 0.5,
      frequency_penalty: 0.1,
      logit_bias: { '50256': -100 },
      seed: 7,
      response_format: { type: 'text' },
      n: 1,
      store: false,
      metadata: { a: 'b' },
      reasoning_effort: 'minimal',
    });
    expect(out).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 64000, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] });
  });

  it('turns JSON response formats into a system instruction', () => {
    expect(translate({ messages: [user('x')], response_format: { type: 'json_object' } }).system).toMatch(/valid JSON object/);
    const out = translate({
      messages: [{ role: 'system', content: 'Be nice.' }, user('x')],
      response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object', properties: { a: { type: 'number' } } } } },
    });
    expect(out.system).toMatch(/^Be nice\.\n\nRespond with a single valid JSON object that conforms to this JSON schema: \{"type":"object"/);
  });

  it('rejects what Anthropic cannot honour, naming the param', () => {
    expect(badRequest({ messages: [user('x')], n: 3 }).param).toBe('n');
    expect(badRequest({ messages: [user('x')], n: 3 }).message).toMatch(/\bn > 1\b/);
    expect(badRequest({ messages: [user('x')], logprobs: true }).param).toBe('logprobs');
    expect(badRequest({ messages: [user('x')], modalities: ['text', 'audio'] }).param).toBe('modalities');
  });

  it('rejects embeddings', () => {
    expect(() => anthropicAdapter.buildRequest('embeddings', { model: 'e', input: 'x' }, target, { stream: false })).toThrow(BadRequestError);
    expect(() => anthropicAdapter.buildRequest('embeddings', { model: 'e', input: 'x' }, target, { stream: false })).toThrow(/embeddings/);
  });
});

describe('anthropic parseResponse', () => {
  const message = (extra: Body) =>
    JSON.stringify({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 6 },
      ...extra,
    });

  it('translates a text message into a chat.completion', () => {
    const res = anthropicAdapter.parseResponse('chat', 200, message({}), target);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.usage).toEqual({ prompt: 12, completion: 6 });
    expect(JSON.parse(res.body)).toEqual({
      id: 'chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL',
      object: 'chat.completion',
      created: CREATED,
      model: 'claude-sonnet-4-5-20250929',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
    });
  });

  it('translates tool_use into tool_calls, content null when there is no text', () => {
    const res = anthropicAdapter.parseResponse(
      'chat',
      200,
      message({
        content: [
          { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { location: 'San Francisco, CA' } },
          { type: 'tool_use', id: 'toolu_01B', name: 'get_time', input: {} },
        ],
        stop_reason: 'tool_use',
      }),
      target,
    );
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const choice = JSON.parse(res.body).choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message).toEqual({
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [
        { id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' } },
        { id: 'toolu_01B', type: 'function', function: { name: 'get_time', arguments: '{}' } },
      ],
    });
  });

  it('joins text blocks, keeps text next to tool calls and gives thinking as reasoning_content, not content', () => {
    const res = anthropicAdapter.parseResponse(
      'chat',
      200,
      message({
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 'sig' },
          { type: 'text', text: 'Let me ' },
          { type: 'text', text: 'check.' },
          { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } },
        ],
        stop_reason: 'tool_use',
      }),
      target,
    );
    if (!res.ok) throw new Error('expected ok');
    const msg = JSON.parse(res.body).choices[0].message;
    expect(msg.content).toBe('Let me check.');
    expect(msg.tool_calls).toHaveLength(1);
    expect(msg.reasoning_content).toBe('hmm');
    expect(res.body).not.toContain('sig');
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['pause_turn', 'stop'],
    ['refusal', 'content_filter'],
    [null, 'stop'],
  ])('stop_reason %s -> finish_reason %s', (stop, finish) => {
    const res = anthropicAdapter.parseResponse('chat', 200, message({ stop_reason: stop }), target);
    if (!res.ok) throw new Error('expected ok');
    expect(JSON.parse(res.body).choices[0].finish_reason).toBe(finish);
  });

  it('counts cache writes and reads as prompt tokens', () => {
    const res = anthropicAdapter.parseResponse(
      'chat',
      200,
      message({ usage: { input_tokens: 10, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000, output_tokens: 5 } }),
      target,
    );
    if (!res.ok) throw new Error('expected ok');
    expect(res.usage).toEqual({ prompt: 1110, completion: 5 });
    expect(JSON.parse(res.body).usage).toEqual({
      prompt_tokens: 1110,
      completion_tokens: 5,
      total_tokens: 1115,
      prompt_tokens_details: { cached_tokens: 1000 },
    });
  });

  it('falls back to the target model and gives empty content as ""', () => {
    const res = anthropicAdapter.parseResponse('chat', 200, message({ model: undefined, content: [] }), target);
    if (!res.ok) throw new Error('expected ok');
    const body = JSON.parse(res.body);
    expect(body.model).toBe('claude-sonnet-4-5');
    expect(body.choices[0].message.content).toBe('');
  });

  it('an error in a 2xx body is an error', () => {
    const res = anthropicAdapter.parseResponse('chat', 200, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', target);
    expect(res).toEqual({
      ok: false,
      error: { errorClass: 'server-error', status: 529, message: 'Overloaded', type: 'server_error', code: 'overloaded', param: null },
    });
  });

  it.each(['{"id":"x"', 'not json', '[]', '{"type":"message"}'])('an invalid body %j is a 502 server error', (text) => {
    const res = anthropicAdapter.parseResponse('chat', 200, text, target);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error).toMatchObject({ errorClass: 'server-error', status: 502, message: expect.stringMatching(/provider sent an invalid/) });
  });
});

describe('anthropic parseError', () => {
  const body = (type: string, message: string, extra: Body = {}) =>
    JSON.stringify({ type: 'error', error: { type, message, ...extra }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' });

  it('529 overloaded_error -> server-error', () => {
    expect(anthropicAdapter.parseError(529, body('overloaded_error', 'Overloaded'))).toEqual({
      errorClass: 'server-error',
      status: 529,
      message: 'Overloaded',
      type: 'server_error',
      code: 'overloaded',
      param: null,
    });
  });

  it('429 rate_limit_error -> rate-limit', () => {
    expect(anthropicAdapter.parseError(429, body('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'))).toMatchObject({
      errorClass: 'rate-limit',
      status: 429,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
    });
  });

  it('429 with a reached spend limit -> auth (quota)', () => {
    const e = anthropicAdapter.parseError(429, body('rate_limit_error', 'You have reached your specified API usage limits.', { details: { error_code: 'enforced_spend_limit_reached' } }));
    expect(e).toMatchObject({ errorClass: 'auth', status: 429, code: 'insufficient_quota' });
  });

  it('400 credit balance too low -> auth (quota)', () => {
    const e = anthropicAdapter.parseError(400, body('invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'));
    expect(e).toMatchObject({ errorClass: 'auth', code: 'insufficient_quota' });
  });

  it('401 and 403 -> auth', () => {
    expect(anthropicAdapter.parseError(401, body('authentication_error', 'invalid x-api-key'))).toMatchObject({
      errorClass: 'auth',
      type: 'authentication_error',
      code: 'invalid_api_key',
    });
    expect(anthropicAdapter.parseError(403, body('permission_error', 'no access'))).toMatchObject({ errorClass: 'auth', type: 'permission_error' });
  });

  it('prompt too long -> context-window with code context_length_exceeded', () => {
    const e = anthropicAdapter.parseError(400, body('invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum'));
    expect(e).toEqual({
      errorClass: 'context-window',
      status: 400,
      message: 'prompt is too long: 215000 tokens > 200000 maximum',
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: null,
    });
    const e2 = anthropicAdapter.parseError(400, body('invalid_request_error', 'input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000'));
    expect(e2.errorClass).toBe('context-window');
  });

  it('other 4xx -> bad-request; 404 not_found_error -> not-found; 500 api_error -> server-error', () => {
    expect(anthropicAdapter.parseError(400, body('invalid_request_error', 'messages: roles must alternate'))).toMatchObject({ errorClass: 'bad-request', code: null });
    expect(anthropicAdapter.parseError(404, body('not_found_error', 'model: claude-x'))).toMatchObject({ errorClass: 'not-found', type: 'not_found_error' });
    expect(anthropicAdapter.parseError(500, body('api_error', 'Internal server error'))).toMatchObject({ errorClass: 'server-error', type: 'server_error' });
  });

  it('keeps non-JSON bodies (a proxy page), truncated to 500 characters', () => {
    const e = anthropicAdapter.parseError(413, `<html><body>413 Request Entity Too Large${' '.repeat(10)}${'y'.repeat(1000)}</body></html>`);
    expect(e).toMatchObject({ status: 413, type: 'invalid_request_error', code: 'request_too_large', errorClass: 'bad-request' });
    expect(e.message.length).toBeLessThanOrEqual(501);
    expect(anthropicAdapter.parseError(502, '')).toMatchObject({ errorClass: 'server-error', message: expect.stringMatching(/502/) });
    expect(anthropicAdapter.parseError(529, 'Overloaded')).toMatchObject({ errorClass: 'server-error', code: 'overloaded' });
  });
});

// ------------------------------------------------------------------ streams

function sse(type: string, data: Body): SseEvent {
  return { event: type, data: JSON.stringify({ type, ...data }) };
}

/** A tool-use stream as Anthropic's streaming docs show it: text, then a tool call with partial JSON. */
const TOOL_STREAM: SseEvent[] = [
  sse('message_start', {
    message: {
      id: 'msg_014p7gG3wDgGV9EUtLvnow3U',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      stop_sequence: null,
      usage: { input_tokens: 472, output_tokens: 2 },
      content: [],
      stop_reason: null,
    },
  }),
  sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  sse('ping', {}),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Okay' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ', let me check.' } }),
  sse('content_block_stop', { index: 0 }),
  sse('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: {} } }),
  sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } }),
  sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"location":' } }),
  sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: ' "San Francisco, CA"}' } }),
  sse('content_block_stop', { index: 1 }),
  sse('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 89 } }),
  sse('message_stop', {}),
];

const HEAD = `{"id":"chatcmpl-msg_014p7gG3wDgGV9EUtLvnow3U","object":"chat.completion.chunk","created":${CREATED},"model":"claude-sonnet-4-5-20250929"`;
const chunk = (delta: string, finish: string | null = null, usageNull = false) =>
  `${HEAD},"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish ? `"${finish}"` : 'null'}}]${usageNull ? ',"usage":null' : ''}}`;

function run(events: SseEvent[], request: Body = { model: 'chat', messages: [], stream: true }): StreamStep[] {
  const decoder = anthropicAdapter.createStreamDecoder(target, request);
  return events.map((e) => decoder.push(e));
}

describe('anthropic stream decoder', () => {
  it('translates a full text + tool-use stream into the exact OpenAI chunk sequence', () => {
    const steps = run(TOOL_STREAM);
    expect(steps.flatMap((s) => s.out)).toEqual([
      chunk('{"role":"assistant","content":""}'),
      chunk('{"content":"Okay"}'),
      chunk('{"content":", let me check."}'),
      chunk('{"tool_calls":[{"index":0,"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","type":"function","function":{"name":"get_weather","arguments":""}}]}'),
      chunk('{"tool_calls":[{"index":0,"function":{"arguments":"{\\"location\\":"}}]}'),
      chunk('{"tool_calls":[{"index":0,"function":{"arguments":" \\"San Francisco, CA\\"}"}}]}'),
      chunk('{}', 'tool_calls'),
    ]);
    // Every chunk parses, and id/created/model stay the same.
    const parsed = steps.flatMap((s) => s.out).map((o) => JSON.parse(o));
    expect(new Set(parsed.map((p) => `${p.id}|${p.created}|${p.model}|${p.object}`)).size).toBe(1);
    expect(steps.map((s) => s.content)).toEqual([false, false, false, true, true, false, true, false, true, true, false, false, false]);
    expect(steps.map((s) => s.finished)).toEqual([...Array(12).fill(false), true]);
    expect(steps.filter((s) => s.usage)).toEqual([expect.objectContaining({ usage: { prompt: 472, completion: 89 } })]);
    expect(steps.findIndex((s) => s.usage)).toBe(11); // reported once, at message_delta
    expect(steps.some((s) => s.error)).toBe(false);
  });

  it('adds usage:null to chunks and a final usage chunk when the client asked for include_usage', () => {
    const steps = run(TOOL_STREAM, { model: 'chat', messages: [], stream: true, stream_options: { include_usage: true } });
    const out = steps.flatMap((s) => s.out);
    expect(out[0]).toBe(chunk('{"role":"assistant","content":""}', null, true));
    expect(out[out.length - 2]).toBe(chunk('{}', 'tool_calls', true));
    expect(out[out.length - 1]).toBe(`${HEAD},"choices":[],"usage":{"prompt_tokens":472,"completion_tokens":89,"total_tokens":561}}`);
    const last = steps[steps.length - 1] as StreamStep;
    expect(last.finished).toBe(true);
    expect(last.out).toHaveLength(1);
  });

  it('numbers tool calls by their order among tool calls, not by block index', () => {
    const steps = run([
      sse('message_start', { message: { id: 'msg_2', model: 'claude-x', usage: { input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 10 } } }),
      sse('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
      sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think' } }),
      sse('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAh' } }),
      sse('content_block_stop', { index: 0 }),
      sse('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_a', name: 'f', input: {} } }),
      sse('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_b', name: 'g', input: {} } }),
      sse('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"b":2}' } }),
      sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":1}' } }),
      sse('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 30 } }),
      sse('message_stop', {}),
    ]);
    const deltas = steps.flatMap((s) => s.out).map((o) => JSON.parse(o).choices[0]?.delta);
    expect(deltas).toEqual([
      { role: 'assistant', content: '' },
      { reasoning_content: 'Let me think' },
      { tool_calls: [{ index: 0, id: 'toolu_a', type: 'function', function: { name: 'f', arguments: '' } }] },
      { tool_calls: [{ index: 1, id: 'toolu_b', type: 'function', function: { name: 'g', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{"b":2}' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] },
      {},
    ]);
    // Thinking goes out as reasoning_content and is not content (not the commit point); the signature is dropped.
    expect(steps.slice(1, 5).every((s) => !s.content)).toBe(true);
    expect(steps.slice(1, 5).map((s) => s.out.length)).toEqual([0, 1, 0, 0]);
    expect(steps[9]?.usage).toEqual({ prompt: 115, completion: 30 });
  });

  it.each([
    ['end_turn', 'stop'],
    ['max_tokens', 'length'],
    ['stop_sequence', 'stop'],
    ['refusal', 'content_filter'],
  ])('message_delta stop_reason %s -> finish_reason %s', (stop, finish) => {
    const steps = run([sse('message_start', { message: { id: 'm', model: 'c', usage: { input_tokens: 1 } } }), sse('message_delta', { delta: { stop_reason: stop }, usage: { output_tokens: 2 } })]);
    expect(JSON.parse(steps[1]?.out[0] as string).choices[0].finish_reason).toBe(finish);
  });

  it('takes input counts that message_delta repeats', () => {
    const steps = run([
      sse('message_start', { message: { id: 'm', model: 'c', usage: { input_tokens: 0 } } }),
      sse('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 40, cache_read_input_tokens: 2, output_tokens: 7 } }),
    ]);
    expect(steps[1]?.usage).toEqual({ prompt: 42, completion: 7 });
  });

  it('a text block that starts with text emits it', () => {
    const steps = run([
      sse('message_start', { message: { id: 'm', model: 'c' } }),
      sse('content_block_start', { index: 0, content_block: { type: 'text', text: 'Hi' } }),
      sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: '' } }),
    ]);
    expect(steps[1]?.content).toBe(true);
    expect(JSON.parse(steps[1]?.out[0] as string).choices[0].delta).toEqual({ content: 'Hi' });
    expect(steps[2]).toEqual({ out: [], content: false, finished: false });
  });

  it('an overloaded_error event -> status 529, server-error', () => {
    const steps = run([TOOL_STREAM[0] as SseEvent, sse('error', { error: { type: 'overloaded_error', message: 'Overloaded' } })]);
    expect(steps[1]).toEqual({
      out: [],
      content: false,
      finished: false,
      error: { errorClass: 'server-error', status: 529, message: 'Overloaded', type: 'server_error', code: 'overloaded', param: null },
    });
  });

  it.each([
    ['rate_limit_error', 429, 'rate-limit'],
    ['api_error', 500, 'server-error'],
    ['invalid_request_error', 400, 'bad-request'],
    ['something_new', 500, 'server-error'],
  ])('an %s event -> %d %s', (type, status, cls) => {
    const [s] = run([sse('error', { error: { type, message: 'x' } })]);
    expect(s?.error).toMatchObject({ status, errorClass: cls });
  });

  it('unparseable data is a server error', () => {
    const [s] = run([{ event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_del' }]);
    expect(s?.error).toMatchObject({ errorClass: 'server-error', status: 502 });
  });

  it('ignores unknown events and empty data', () => {
    const steps = run([sse('some_future_event', { x: 1 }), { data: '' }]);
    expect(steps).toEqual([
      { out: [], content: false, finished: false },
      { out: [], content: false, finished: false },
    ]);
  });

  it('uses the SSE event name when the data has no type, and a generated id when message_start is missing', () => {
    const d = anthropicAdapter.createStreamDecoder(target, { model: 'chat', messages: [] });
    const s = d.push({ event: 'content_block_delta', data: '{"index":0,"delta":{"type":"text_delta","text":"x"}}' });
    const parsed = JSON.parse(s.out[0] as string);
    expect(parsed.id).toMatch(/^chatcmpl-/);
    expect(parsed.model).toBe('claude-sonnet-4-5');
    expect(parsed.choices[0].delta).toEqual({ content: 'x' });
  });

  it('reports usage at message_stop when no message_delta carried it', () => {
    const steps = run([sse('message_start', { message: { id: 'm', model: 'c', usage: { input_tokens: 3 } } }), sse('message_stop', {})]);
    expect(steps[1]).toEqual({ out: [], content: false, finished: true, usage: { prompt: 3, completion: 0 } });
  });
});

describe('keys never leak', () => {
  function errorsOf(): Array<ProviderError | Error> {
    const errors: Array<ProviderError | Error> = [
      anthropicAdapter.parseError(401, JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${KEY}` } })),
      anthropicAdapter.parseError(529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'),
      anthropicAdapter.parseError(400, `bad header x-api-key: ${KEY}`),
    ];
    const r = anthropicAdapter.parseResponse('chat', 200, 'garbage', target);
    if (!r.ok) errors.push(r.error);
    const s = anthropicAdapter.createStreamDecoder(target, {}).push(sse('error', { error: { type: 'api_error', message: `oops ${KEY}` } }));
    if (s.error) errors.push(s.error);
    for (const body of [{ messages: [user('x')], n: 2 }, { messages: [{ role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{' } }] }] }]) {
      try {
        anthropicAdapter.buildRequest('chat', { model: 'chat', ...body }, target, { stream: false });
      } catch (err) {
        errors.push(err as Error);
      }
    }
    try {
      anthropicAdapter.buildRequest('embeddings', { model: 'e', input: 'x' }, target, { stream: false });
    } catch (err) {
      errors.push(err as Error);
    }
    return errors;
  }

  it('no ProviderError or thrown error carries the key', () => {
    const errors = errorsOf();
    expect(errors).toHaveLength(8);
    for (const e of errors) {
      const text = `${JSON.stringify(e)} ${(e as { message: string }).message} ${e instanceof Error ? String(e.stack) : ''}`;
      expect(text).not.toContain(KEY);
      expect(text).not.toContain('SECRETKEY');
    }
  });

  it('the key is only in x-api-key; the client Authorization never appears', () => {
    const req = anthropicAdapter.buildRequest('chat', { model: 'chat', messages: [user('x')], authorization: 'Bearer client' }, target, { stream: false });
    expect(Object.keys(req.headers).sort()).toEqual(['accept', 'anthropic-version', 'content-type', 'x-api-key']);
    expect(req.body).not.toContain(KEY);
    expect(JSON.stringify(req.headers)).not.toContain('client');
  });
});
