import { describe, expect, it } from '@jest/globals';
import { Secret } from '../secret.ts';
import { adapterFor, DEFAULT_BASE_URLS } from './index.ts';
import { anthropicAdapter } from './anthropic.ts';
import { azureOpenaiAdapter, azureTakesStreamOptions, DEFAULT_AZURE_API_VERSION, isPlainChunk, openaiAdapter, openaiCompatibleAdapter, plainContentDelta } from './openai.ts';
import type { ProviderError, ProviderTarget, StreamStep } from './types.ts';

const KEY = 'sk-test-SECRETKEY0123456789abcdef';

const openaiTarget: ProviderTarget = {
  provider: 'openai',
  model: 'gpt-4o-mini',
  baseURL: 'https://api.openai.com/v1',
  apiKey: new Secret(KEY),
};
const localTarget: ProviderTarget = { provider: 'openai-compatible', model: 'llama3.1', baseURL: 'http://127.0.0.1:11434/v1/' };
const azureTarget: ProviderTarget = {
  provider: 'azure-openai',
  model: 'my-gpt4o',
  baseURL: 'https://x.openai.azure.com',
  apiVersion: '2024-10-21',
  apiKey: new Secret('azure-key-0123456789'),
};

function chatBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'chat', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2, ...extra };
}

function errorOf(step: StreamStep): ProviderError {
  expect(step.error).toBeDefined();
  return step.error as ProviderError;
}

describe('openai buildRequest', () => {
  it('targets <baseURL>/chat/completions with a bearer key and the target model', () => {
    const body = chatBody();
    const req = openaiAdapter.buildRequest('chat', body, openaiTarget, { stream: false });
    expect(req.url).toBe('https://api.openai.com/v1/chat/completions');
    expect(req.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${KEY}` });
    expect(JSON.parse(req.body)).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2 });
    expect(body.model).toBe('chat'); // the client's body is not touched
  });

  it('keeps the position of model and every other field as the client sent them', () => {
    const req = openaiAdapter.buildRequest('chat', { a: 1, model: 'chat', messages: [], z: { y: [1] } }, openaiTarget, { stream: false });
    expect(req.body).toBe('{"a":1,"model":"gpt-4o-mini","messages":[],"z":{"y":[1]}}');
  });

  it('sends no authorization header without a key (openai-compatible) and trims a trailing slash', () => {
    const req = openaiCompatibleAdapter.buildRequest('chat', chatBody(), localTarget, { stream: false });
    expect(req.url).toBe('http://127.0.0.1:11434/v1/chat/completions');
    expect(req.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json' });
    const empty = openaiCompatibleAdapter.buildRequest('chat', chatBody(), { ...localTarget, apiKey: new Secret('') }, { stream: false });
    expect(empty.headers.authorization).toBeUndefined();
  });

  it('uses the target key, never anything the client sent', () => {
    const body = chatBody({ api_key: 'client-key' });
    const req = openaiAdapter.buildRequest('chat', body, openaiTarget, { stream: false });
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(Object.keys(req.headers).sort()).toEqual(['accept', 'authorization', 'content-type']);
  });

  it('asks for include_usage on streams without touching the client body', () => {
    const body = chatBody({ stream: true });
    const req = openaiAdapter.buildRequest('chat', body, openaiTarget, { stream: true });
    const sent = JSON.parse(req.body);
    expect(sent.stream).toBe(true);
    expect(sent.stream_options).toEqual({ include_usage: true });
    expect(body.stream_options).toBeUndefined();
  });

  it('keeps the client stream_options and forces include_usage', () => {
    const body = chatBody({ stream: true, stream_options: { include_usage: false, include_obfuscation: false } });
    const sent = JSON.parse(openaiAdapter.buildRequest('chat', body, openaiTarget, { stream: true }).body);
    expect(sent.stream_options).toEqual({ include_usage: true, include_obfuscation: false });
    expect(body.stream_options).toEqual({ include_usage: false, include_obfuscation: false });
  });

  it('drops stream_options from non-stream requests', () => {
    const sent = JSON.parse(
      openaiAdapter.buildRequest('chat', chatBody({ stream: false, stream_options: { include_usage: true } }), openaiTarget, { stream: false }).body,
    );
    expect(sent.stream).toBe(false);
    expect(sent.stream_options).toBeUndefined();
  });

  it('targets <baseURL>/completions for legacy completions, with include_usage on streams', () => {
    const req = openaiAdapter.buildRequest('completions', { model: 'chat', prompt: 'Say', stream: true }, openaiTarget, { stream: true });
    expect(req.url).toBe('https://api.openai.com/v1/completions');
    expect(JSON.parse(req.body)).toEqual({ model: 'gpt-4o-mini', prompt: 'Say', stream: true, stream_options: { include_usage: true } });
    const azure = azureOpenaiAdapter.buildRequest('completions', { model: 'chat', prompt: 'Say' }, azureTarget, { stream: false });
    expect(azure.url).toBe('https://x.openai.azure.com/openai/deployments/my-gpt4o/completions?api-version=2024-10-21');
  });

  it("a legacy completion stream commits on its first chunk with text, and hides the usage chunk the client did not ask for", () => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, { model: 'chat', prompt: 'x', stream: true });
    const chunk = (text: string): string => JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ text, index: 0, logprobs: null, finish_reason: null }] });
    expect(d.push({ data: chunk('') }).content).toBe(false);
    expect(d.push({ data: chunk('Hel') })).toMatchObject({ content: true, out: [chunk('Hel')] });
    expect(d.push({ data: JSON.stringify({ id: 'cmpl-1', object: 'text_completion', choices: [], usage: { prompt_tokens: 2, completion_tokens: 3 } }) })).toMatchObject({ out: [], usage: { prompt: 2, completion: 3 } });
    expect(d.push({ data: '[DONE]' }).finished).toBe(true);
  });

  it('targets <baseURL>/embeddings for embeddings', () => {
    const req = openaiAdapter.buildRequest('embeddings', { model: 'emb', input: ['a', 'b'] }, { ...openaiTarget, model: 'text-embedding-3-small' }, { stream: false });
    expect(req.url).toBe('https://api.openai.com/v1/embeddings');
    expect(JSON.parse(req.body)).toEqual({ model: 'text-embedding-3-small', input: ['a', 'b'] });
  });
});

describe('azure-openai buildRequest', () => {
  it('puts the deployment and api-version in the URL, the key in api-key, and drops model', () => {
    const req = azureOpenaiAdapter.buildRequest('chat', chatBody(), azureTarget, { stream: false });
    expect(req.url).toBe('https://x.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21');
    expect(req.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json', 'api-key': 'azure-key-0123456789' });
    expect(req.headers.authorization).toBeUndefined();
    expect(JSON.parse(req.body).model).toBeUndefined();
    expect(JSON.parse(req.body).messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it.each(['https://x.openai.azure.com/', 'https://x.openai.azure.com/openai', 'https://x.openai.azure.com/openai/'])(
    'accepts the base URL %s',
    (baseURL) => {
      const req = azureOpenaiAdapter.buildRequest('embeddings', { model: 'e', input: 'x' }, { ...azureTarget, baseURL }, { stream: false });
      expect(req.url).toBe('https://x.openai.azure.com/openai/deployments/my-gpt4o/embeddings?api-version=2024-10-21');
    },
  );

  it('defaults the api-version and encodes the deployment', () => {
    const req = azureOpenaiAdapter.buildRequest('chat', chatBody(), { ...azureTarget, apiVersion: undefined, model: 'a b' }, { stream: false });
    expect(req.url).toBe(`https://x.openai.azure.com/openai/deployments/a%20b/chat/completions?api-version=${DEFAULT_AZURE_API_VERSION}`);
  });

  it('supports the Azure v1 API (base ending in /openai/v1): model stays in the body', () => {
    const req = azureOpenaiAdapter.buildRequest('chat', chatBody(), { ...azureTarget, baseURL: 'https://x.openai.azure.com/openai/v1' }, { stream: true });
    expect(req.url).toBe('https://x.openai.azure.com/openai/v1/chat/completions');
    expect(JSON.parse(req.body).model).toBe('my-gpt4o');
    expect(req.headers['api-key']).toBe('azure-key-0123456789');
  });

  it.each([
    ['2024-10-21', true],
    ['2025-04-01-preview', true],
    ['2024-09-01-preview', true],
    ['2024-08-01-preview', false],
    ['2024-06-01', false],
    ['2024-02-01', false],
    ['2023-05-15', false],
    ['latest', false],
  ])('api-version %s takes stream_options: %s', (apiVersion, yes) => {
    expect(azureTakesStreamOptions(apiVersion)).toBe(yes);
    const sent = JSON.parse(azureOpenaiAdapter.buildRequest('chat', chatBody({ stream: true, stream_options: { include_usage: true } }), { ...azureTarget, apiVersion }, { stream: true }).body);
    // An api-version that refuses stream_options gets none, not even the client's: the request would fail.
    expect(sent.stream_options).toEqual(yes ? { include_usage: true } : undefined);
    expect(sent.stream).toBe(true);
  });

  it('adds include_usage on streams too', () => {
    const sent = JSON.parse(azureOpenaiAdapter.buildRequest('chat', chatBody({ stream: true }), azureTarget, { stream: true }).body);
    expect(sent.stream_options).toEqual({ include_usage: true });
  });
});

describe('openai parseResponse', () => {
  const completion = JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  });

  it('returns the upstream text unchanged, with usage', () => {
    const res = openaiAdapter.parseResponse('chat', 200, completion, openaiTarget);
    expect(res).toEqual({ ok: true, body: completion, usage: { prompt: 12, completion: 3 } });
    if (res.ok) expect(res.body).toBe(completion);
  });

  it('reads embeddings usage with completion 0', () => {
    const text = JSON.stringify({ object: 'list', data: [], usage: { prompt_tokens: 8, total_tokens: 8 } });
    expect(openaiAdapter.parseResponse('embeddings', 200, text, openaiTarget)).toEqual({ ok: true, body: text, usage: { prompt: 8, completion: 0 } });
  });

  it('leaves usage undefined when the provider sent none', () => {
    const res = openaiCompatibleAdapter.parseResponse('chat', 200, '{"choices":[]}', localTarget);
    expect(res.ok && res.usage).toBeUndefined();
  });

  it('treats a 200 carrying an error as a server error (500)', () => {
    const res = openaiAdapter.parseResponse('chat', 200, '{"error":{"message":"boom","type":"server_error","code":null}}', openaiTarget);
    expect(res).toEqual({
      ok: false,
      error: { errorClass: 'server-error', status: 500, message: 'boom', type: 'server_error', code: null, param: null },
    });
  });

  it('takes the status a 200-with-error names', () => {
    const rate = openaiAdapter.parseResponse('chat', 200, '{"error":{"message":"slow down","code":429}}', openaiTarget);
    expect(!rate.ok && [rate.error.status, rate.error.errorClass]).toEqual([429, 'rate-limit']);
    const ctx = openaiAdapter.parseResponse('chat', 200, '{"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}}', openaiTarget);
    expect(!ctx.ok && [ctx.error.status, ctx.error.errorClass]).toEqual([400, 'context-window']);
    const str = openaiAdapter.parseResponse('chat', 200, '{"error":"upstream exploded"}', openaiTarget);
    expect(!str.ok && [str.error.status, str.error.errorClass, str.error.message]).toEqual([500, 'server-error', 'upstream exploded']);
  });

  it.each(['not json', '<html>502</html>', '[1,2]', '"text"', 'null', ''])('rejects the invalid body %j as a 502 server error', (text) => {
    const res = openaiAdapter.parseResponse('chat', 200, text, openaiTarget);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.errorClass).toBe('server-error');
      expect(res.error.status).toBe(502);
      expect(res.error.message).toMatch(/provider sent an invalid/);
    }
  });
});

describe('openai parseError', () => {
  const err = (code: string | null, message: string, type = 'invalid_request_error', param: string | null = null) =>
    JSON.stringify({ error: { message, type, param, code } });

  it('reads OpenAI error bodies', () => {
    expect(openaiAdapter.parseError(400, err('context_length_exceeded', "This model's maximum context length is 128000 tokens.", 'invalid_request_error', 'messages'))).toEqual({
      errorClass: 'context-window',
      status: 400,
      message: "This model's maximum context length is 128000 tokens.",
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
    });
  });

  it.each([
    [429, err('rate_limit_exceeded', 'Rate limit reached for gpt-4o', 'requests'), 'rate-limit'],
    [429, err('insufficient_quota', 'You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota'), 'auth'],
    [401, err('invalid_api_key', 'Incorrect API key provided.'), 'auth'],
    [403, err(null, 'not allowed', 'permission_error'), 'auth'],
    // Issue 10: a 404 (a retired model, a wrong baseURL, a renamed Azure deployment) is the target's: not-found.
    [404, err('model_not_found', 'The model `x` does not exist'), 'not-found'],
    [404, err(null, 'Invalid URL (POST /v1/v1/chat/completions)'), 'not-found'],
    [404, JSON.stringify({ error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } }), 'not-found'],
    [404, JSON.stringify({ error: { code: '404', message: 'Resource not found' } }), 'not-found'],
    [404, '<html><body>404 Not Found</body></html>', 'not-found'],
    [404, err(null, 'No such File object: file-abc123'), 'bad-request'],
    [400, JSON.stringify({ error: { message: 'request (2021 tokens) exceeds the available context size (512 tokens), try increasing it', type: 'exceed_context_size_error', code: 400, n_prompt_tokens: 2021, n_ctx: 512 } }), 'context-window'],
    [400, err(null, 'Invalid value for temperature'), 'bad-request'],
    [400, err('content_filter', 'filtered'), 'bad-request'],
    [500, err(null, 'The server had an error', 'server_error'), 'server-error'],
    [503, err(null, 'overloaded', 'server_error'), 'server-error'],
    [408, err(null, 'timeout'), 'timeout'],
  ] as const)('status %d -> %s', (status, text, cls) => {
    expect(openaiAdapter.parseError(status, text).errorClass).toBe(cls);
  });

  it('tolerates {"error": "string"}, {"message": ...}, {"detail": ...} and arrays', () => {
    expect(openaiAdapter.parseError(429, '{"error":"Too many requests"}')).toMatchObject({ message: 'Too many requests', type: 'rate_limit_error', code: null, errorClass: 'rate-limit' });
    expect(openaiAdapter.parseError(400, '{"message":"bad thing","code":"bad_thing"}')).toMatchObject({ message: 'bad thing', code: 'bad_thing', type: 'invalid_request_error' });
    expect(openaiAdapter.parseError(422, '{"detail":"field required"}')).toMatchObject({ message: 'field required', errorClass: 'bad-request' });
    expect(openaiAdapter.parseError(500, '[{"error":{"message":"inner","type":"server_error"}}]')).toMatchObject({ message: 'inner', errorClass: 'server-error' });
  });

  it('keeps non-JSON text, truncated to 500 characters', () => {
    const html = `<html>${'x'.repeat(2000)}</html>`;
    const e = openaiAdapter.parseError(502, html);
    expect(e.errorClass).toBe('server-error');
    expect(e.type).toBe('server_error');
    expect(e.message.length).toBeLessThanOrEqual(501);
    expect(e.message.startsWith('<html>xxx')).toBe(true);
  });

  it('says something for an empty body', () => {
    expect(openaiAdapter.parseError(503, '').message).toMatch(/503/);
  });

  it('reads context-window from the message when the code is missing', () => {
    expect(openaiCompatibleAdapter.parseError(400, '{"error":{"message":"prompt is too long for the context window"}}').errorClass).toBe('context-window');
  });
});

describe('openai stream decoder', () => {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    JSON.stringify({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] });
  const usageChunk = JSON.stringify({
    id: 'chatcmpl-9',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [],
    usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
  });

  it('passes chunks on as the very strings received and finds content', () => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody({ stream: true }));
    const role = chunk({ role: 'assistant', content: '' });
    expect(d.push({ data: role })).toEqual({ out: [role], content: false, finished: false });
    const text = chunk({ content: 'Hel' });
    const s = d.push({ data: text });
    expect(s.out[0]).toBe(text);
    expect(s.content).toBe(true);
  });

  it.each([
    [{ role: 'assistant' }, false],
    [{ content: '' }, false],
    [{ content: null }, false],
    [{}, false],
    [{ content: 'x' }, true],
    [{ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] }, true],
    [{ function_call: { name: 'f', arguments: '' } }, true],
    [{ refusal: 'I cannot' }, true],
    [{ reasoning_content: 'thinking' }, true],
    [{ tool_calls: [] }, false],
  ] as const)('delta %j -> content %s', (delta, content) => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody());
    expect(d.push({ data: chunk(delta as Record<string, unknown>) }).content).toBe(content);
  });

  it('a finish_reason chunk is not content', () => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody());
    expect(d.push({ data: chunk({}, 'stop') }).content).toBe(false);
  });

  it('hides the usage chunk the client did not ask for, but reports usage', () => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody({ stream: true }));
    expect(d.push({ data: usageChunk })).toEqual({ out: [], content: false, finished: false, usage: { prompt: 9, completion: 4 } });
  });

  it('passes the usage chunk on when the client asked for it', () => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody({ stream: true, stream_options: { include_usage: true } }));
    expect(d.push({ data: usageChunk })).toEqual({ out: [usageChunk], content: false, finished: false, usage: { prompt: 9, completion: 4 } });
  });

  it('reports usage carried on a normal chunk and passes the chunk on', () => {
    const d = openaiCompatibleAdapter.createStreamDecoder(localTarget, chatBody());
    const data = JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 2, completion_tokens: 1 } });
    expect(d.push({ data })).toEqual({ out: [data], content: false, finished: false, usage: { prompt: 2, completion: 1 } });
  });

  it("passes Azure's prompt-filter chunk (empty choices, no usage) on", () => {
    const d = azureOpenaiAdapter.createStreamDecoder(azureTarget, chatBody());
    const data = JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] });
    expect(d.push({ data })).toEqual({ out: [data], content: false, finished: false });
  });

  it('[DONE] finishes and sends nothing', () => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody());
    expect(d.push({ data: '[DONE]' })).toEqual({ out: [], content: false, finished: true });
  });

  it('decodes a whole stream', () => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody({ stream: true }));
    const events = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hi' }), chunk({ content: '!' }), chunk({}, 'stop'), usageChunk, '[DONE]'];
    const steps = events.map((data) => d.push({ data }));
    expect(steps.flatMap((s) => s.out)).toEqual(events.slice(0, 4));
    // only the first content chunk is flagged: it is the commit point, and later ones pass unparsed
    expect(steps.map((s) => s.content)).toEqual([false, true, false, false, false, false]);
    expect(steps.map((s) => s.finished)).toEqual([false, false, false, false, false, true]);
    expect(steps.filter((s) => s.usage).map((s) => s.usage)).toEqual([{ prompt: 9, completion: 4 }]);
  });

  describe('after the first content: plain chunks pass unparsed, the rest is still read', () => {
    const started = () => {
      const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody({ stream: true }));
      expect(d.push({ data: chunk({ content: 'Hi' }) }).content).toBe(true);
      return d;
    };

    it('a plain chunk goes on as the very string', () => {
      const data = chunk({ content: 'he said "error" and "usage"' });
      expect(started().push({ data })).toEqual({ out: [data], content: false, finished: false });
    });

    it('an error in the middle of a stream is still an error', () => {
      const s = started().push({ data: '{"error":{"message":"The server had an error","type":"server_error"}}' });
      expect(s.out).toEqual([]);
      expect(errorOf(s)).toMatchObject({ errorClass: 'server-error', status: 500 });
    });

    it('an SSE error event is still an error', () => {
      expect(errorOf(started().push({ event: 'error', data: '{"message":"worker died"}' }))).toMatchObject({ message: 'worker died' });
    });

    it('usage is still counted, and the usage chunk still hidden from a client that did not ask', () => {
      const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody());
      d.push({ data: chunk({ content: 'Hi' }) });
      expect(d.push({ data: usageChunk })).toEqual({ out: [], content: false, finished: false, usage: { prompt: 9, completion: 4 } });
      const withNull = JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content: 'x' } }], usage: null });
      expect(d.push({ data: withNull })).toEqual({ out: [withNull], content: false, finished: false });
    });

    it('data that is not an object is still refused', () => {
      for (const data of ['garbage', '{"choices":[{"delta":{"content":"tru', '42']) expect(errorOf(started().push({ data }))).toMatchObject({ errorClass: 'server-error', status: 502 });
    });
  });

  it.each([
    ['{"id":1}', true],
    ['{"usage":null,"id":1}', true],
    ['{"usage":{"prompt_tokens":1}}', false],
    ['{"usage":null,"x":{"usage":{"a":1}}}', false],
    ['{"error":{}}', false],
    ['{"a":"\\"error\\""}', true],
    [' {"id":1}', false],
    ['{"id":1', false],
    ['', false],
  ])('isPlainChunk(%s) = %s', (data, plain) => {
    expect(isPlainChunk(data)).toBe(plain);
  });

  it.each([
    ['{"error":{"message":"The server had an error","type":"server_error"}}', 'server-error', 500],
    ['{"error":{"message":"Rate limit","type":"rate_limit_error","code":"rate_limit_exceeded"}}', 'rate-limit', 429],
    ['{"error":{"message":"something"}}', 'server-error', 500],
    ['{"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}', 'auth', 429],
  ] as const)('an error object %s -> %s', (data, cls, status) => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody());
    const s = d.push({ data });
    expect(s.out).toEqual([]);
    expect(s.finished).toBe(false);
    expect(errorOf(s)).toMatchObject({ errorClass: cls, status });
  });

  it('an SSE error event without an error key still is an error', () => {
    const d = openaiCompatibleAdapter.createStreamDecoder(localTarget, chatBody());
    expect(errorOf(d.push({ event: 'error', data: '{"message":"worker died"}' }))).toMatchObject({ errorClass: 'server-error', message: 'worker died' });
  });

  it.each(['{"choices":[{"delta":{"content":"tru', 'garbage', '42'])('unparseable data %j is a server error', (data) => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody());
    expect(errorOf(d.push({ data }))).toMatchObject({ errorClass: 'server-error', status: 502 });
  });

  it('ignores empty data', () => {
    const d = openaiAdapter.createStreamDecoder(openaiTarget, chatBody());
    expect(d.push({ data: '' })).toEqual({ out: [], content: false, finished: false });
  });
});

describe('plainContentDelta: the text of a chunk that is one content delta and nothing else', () => {
  const chunk = (choices: string, extra = ''): string => `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini"${extra},"choices":${choices},"usage":null}`;
  const plain = (literal: string): string => chunk(`[{"index":0,"delta":{"content":${literal}},"logprobs":null,"finish_reason":null}]`, ',"system_fingerprint":"fp_1"');

  it.each([
    ['plain text', '"Hello"', 'Hello'],
    ['an empty string', '""', ''],
    ['escaped quotes and backslashes', JSON.stringify('say "hi" \\ then \\"x\\"'), 'say "hi" \\ then \\"x\\"'],
    ['a string ending in a backslash', JSON.stringify('C:\\'), 'C:\\'],
    ['unicode escapes and newlines', '"caf\\u00e9\\n\\ud83d\\ude00"', 'café\n😀'],
    ['keys look-alikes inside the text', JSON.stringify('"choices":[{"index":0,"delta":{"content":"x"}'), '"choices":[{"index":0,"delta":{"content":"x"}'],
  ])('%s', (_name, literal, text) => {
    const data = plain(literal);
    expect(plainContentDelta(data)).toBe(text);
    expect(plainContentDelta(data)).toBe((JSON.parse(data) as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content);
  });

  it.each([
    ['a finish_reason', chunk('[{"index":0,"delta":{"content":"x"},"logprobs":null,"finish_reason":"stop"}]')],
    ['logprobs', chunk('[{"index":0,"delta":{"content":"x"},"logprobs":{"content":[]},"finish_reason":null}]')],
    ['another key in the delta', chunk('[{"index":0,"delta":{"content":"x","role":"assistant"},"logprobs":null,"finish_reason":null}]')],
    ['a key before content', chunk('[{"index":0,"delta":{"role":"assistant","content":"x"},"logprobs":null,"finish_reason":null}]')],
    ['a second choice', chunk('[{"index":0,"delta":{"content":"x"},"logprobs":null,"finish_reason":null},{"index":1,"delta":{"content":"y"},"logprobs":null,"finish_reason":null}]')],
    ['choice index 1', chunk('[{"index":1,"delta":{"content":"x"},"logprobs":null,"finish_reason":null}]')],
    ['a tool call', chunk('[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]')],
    ['content that is not a string', chunk('[{"index":0,"delta":{"content":null},"logprobs":null,"finish_reason":null}]')],
    ['a cut chunk', plain('"Hel')],
  ])('undefined for %s (the chunk is parsed instead)', (_name, data) => {
    expect(plainContentDelta(data)).toBeUndefined();
  });
});

describe('openai createChunkDecoder: the chunks createStreamDecoder passes on, as objects', () => {
  const target: ProviderTarget = { provider: 'openai', model: 'gpt-4o-mini', baseURL: 'https://api.openai.com/v1', apiKey: new Secret('sk-test') };
  const c = (delta: string, finish = 'null', extra = ''): { data: string } => ({
    data: `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]${extra},"usage":null}`,
  });
  const events = [
    c('{"role":"assistant","content":""}'),
    c('{"content":"Hel"}'),
    c('{"content":"lo \\"there\\""}'),
    c('{"reasoning_content":"hm"}'),
    c('{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}'),
    c('{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}'),
    c('{}', '"tool_calls"'),
    { data: '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}' },
    { data: '[DONE]' },
  ];
  it('each step the same: its choices and usage, content and finished flags', () => {
    const request = { model: 'chat', messages: [], stream: true, stream_options: { include_usage: true } };
    const text = openaiAdapter.createStreamDecoder(target, request);
    const objects = openaiAdapter.createChunkDecoder!(target, request);
    for (const e of events) {
      const t = text.push(e);
      const o = objects.push(e);
      expect({ ...o, out: o.out.map((x) => ({ choices: x.choices, usage: x.usage ?? null })) }).toEqual({
        ...t,
        out: t.out.map((x) => {
          const p = JSON.parse(x) as { choices: unknown; usage?: unknown };
          return { choices: p.choices, usage: p.usage ?? null };
        }),
      });
    }
  });
});

describe('adapterFor and DEFAULT_BASE_URLS', () => {
  it('returns the adapter of each provider', () => {
    expect(adapterFor('openai')).toBe(openaiAdapter);
    expect(adapterFor('openai-compatible')).toBe(openaiCompatibleAdapter);
    expect(adapterFor('azure-openai')).toBe(azureOpenaiAdapter);
    expect(adapterFor('anthropic')).toBe(anthropicAdapter);
    for (const name of ['openai', 'openai-compatible', 'azure-openai', 'anthropic'] as const) expect(adapterFor(name).name).toBe(name);
  });

  it('throws for an unknown provider', () => {
    expect(() => adapterFor('toString' as never)).toThrow(/unknown provider/);
  });

  it('knows the default base URLs', () => {
    expect(DEFAULT_BASE_URLS).toEqual({ openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com/v1', gemini: 'https://generativelanguage.googleapis.com' });
  });
});

describe('keys never leak into errors', () => {
  it('no ProviderError carries the key, even when the provider echoes it', () => {
    const errors: ProviderError[] = [
      openaiAdapter.parseError(401, JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}.`, type: 'invalid_request_error', code: 'invalid_api_key' } })),
      openaiAdapter.parseError(401, `Unauthorized: Bearer ${KEY}`),
      openaiAdapter.parseError(500, 'internal'),
    ];
    const r = openaiAdapter.parseResponse('chat', 200, `{"error":{"message":"bad key ${KEY}"}}`, openaiTarget);
    if (!r.ok) errors.push(r.error);
    const s = openaiAdapter.createStreamDecoder(openaiTarget, chatBody()).push({ data: `{"error":{"message":"key ${KEY}"}}` });
    if (s.error) errors.push(s.error);
    expect(errors).toHaveLength(5);
    for (const e of errors) {
      expect(JSON.stringify(e)).not.toContain(KEY);
      expect(JSON.stringify(e)).not.toContain('SECRETKEY');
    }
    expect(errors[0]?.errorClass).toBe('auth');
  });

  it('built requests carry the key only in the key header, and the target serialises redacted', () => {
    const req = openaiAdapter.buildRequest('chat', chatBody(), openaiTarget, { stream: true });
    expect(req.body).not.toContain(KEY);
    expect(req.url).not.toContain(KEY);
    expect(JSON.stringify(openaiTarget)).not.toContain(KEY);
  });
});
