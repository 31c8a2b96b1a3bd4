/**
 * The gemini adapter: OpenAI chat <-> Gemini generateContent, whole and
 * streamed, and Gemini's errors by class.
 */
import { describe, expect, it } from '@jest/globals';
import { BadRequestError } from '../errors.ts';
import { Secret } from '../secret.ts';
import { geminiAdapter, geminiURL } from './gemini.ts';
import { FOREIGN_THOUGHT_SIGNATURE } from './gemini-request.ts';
import type { ProviderTarget, StreamStep } from './types.ts';

type Body = Record<string, any>;
const target: ProviderTarget = { provider: 'gemini', model: 'gemini-2.5-flash', baseURL: 'https://generativelanguage.googleapis.com', apiKey: new Secret('AIza-test') };

function translate(body: Body, stream = false): Body {
  return JSON.parse(geminiAdapter.buildRequest('chat', { model: 'chat', ...body }, target, { stream }).body) as Body;
}
const user = (content: unknown) => ({ role: 'user', content });
const call = (id: string, name: string, args: string) => ({ id, type: 'function', function: { name, arguments: args } });

describe('request', () => {
  it('URLs: generateContent, streamGenerateContent?alt=sse, with or without the version, models/ prefix taken off', () => {
    expect(geminiURL('https://generativelanguage.googleapis.com', 'gemini-2.5-flash', false)).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
    );
    expect(geminiURL('https://generativelanguage.googleapis.com/v1beta/', 'models/gemini-2.5-pro', true)).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    const req = geminiAdapter.buildRequest('chat', { model: 'x', messages: [user('hi')] }, target, { stream: true });
    expect(req.headers['x-goog-api-key']).toBe('AIza-test');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.headers.accept).toBe('text/event-stream');
  });

  it('system and developer text -> systemInstruction; roles user/model, consecutive turns merged', () => {
    const out = translate({
      messages: [
        { role: 'system', content: 'Be brief.' },
        user('a'),
        user([{ type: 'text', text: 'b' }]),
        { role: 'developer', content: [{ type: 'text', text: 'Use metric.' }] },
        { role: 'assistant', content: 'c' },
        { role: 'assistant', content: 'd' },
        user('e'),
      ],
    });
    expect(out.systemInstruction).toEqual({ parts: [{ text: 'Be brief.\n\nUse metric.' }] });
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'a' }, { text: 'b' }] },
      { role: 'model', parts: [{ text: 'c' }, { text: 'd' }] },
      { role: 'user', parts: [{ text: 'e' }] },
    ]);
  });

  it('tools, tool_choice, function calls with ids and their responses (named, merged into one user turn)', () => {
    const out = translate({
      tools: [{ type: 'function', function: { name: 'weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      messages: [
        user('Weather in Paris and Rome?'),
        { role: 'assistant', content: null, tool_calls: [call('call_1', 'weather', '{"city":"Paris"}'), call('call_2', 'weather', '{"city":"Rome"}')] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'call_2', content: 'sunny' },
      ],
    });
    expect(out.tools).toEqual([
      { functionDeclarations: [{ name: 'weather', description: 'Weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } } }] },
    ]);
    expect(out.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['weather'] } });
    expect(out.contents[1]).toEqual({
      role: 'model',
      parts: [
        { functionCall: { name: 'weather', args: { city: 'Paris' }, id: 'call_1' }, thoughtSignature: FOREIGN_THOUGHT_SIGNATURE },
        { functionCall: { name: 'weather', args: { city: 'Rome' }, id: 'call_2' } },
      ],
    });
    expect(out.contents[2]).toEqual({
      role: 'user',
      parts: [
        { functionResponse: { id: 'call_1', name: 'weather', response: { temp: 21 } } },
        { functionResponse: { id: 'call_2', name: 'weather', response: { result: 'sunny' } } },
      ],
    });
  });

  it('a tool result for no known call is refused (Gemini needs the function name)', () => {
    expect(() => translate({ messages: [user('x'), { role: 'tool', tool_call_id: 'nope', content: 'r' }] })).toThrow(/answers no tool call/);
  });

  it('images and PDFs inline; URLs refused', () => {
    const out = translate({
      messages: [user([{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } }, { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER' } }])],
    });
    expect(out.contents[0].parts).toEqual([{ inlineData: { mimeType: 'image/png', data: 'iVBOR' } }, { inlineData: { mimeType: 'application/pdf', data: 'JVBER' } }]);
    expect(() => translate({ messages: [user([{ type: 'image_url', image_url: { url: 'https://x/i.png' } }])] })).toThrow(/data: URLs only/);
    expect(() => translate({ messages: [user([{ type: 'input_audio', input_audio: {} }])] })).toThrow(/not supported by gemini/);
  });

  it('generationConfig: sampling, max tokens, stops, JSON schema output, thinking', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const out = translate({
      messages: [user('x')],
      temperature: 0.3,
      top_p: 0.9,
      max_completion_tokens: 99,
      stop: ['END', ''],
      seed: 7,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
      reasoning_effort: 'low',
    });
    expect(out.generationConfig).toEqual({
      temperature: 0.3,
      topP: 0.9,
      maxOutputTokens: 99,
      stopSequences: ['END'],
      seed: 7,
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
      thinkingConfig: { thinkingBudget: 1024 },
    });
    expect(translate({ messages: [user('x')], response_format: { type: 'json_object' } }).generationConfig).toEqual({ responseMimeType: 'application/json' });
    expect(translate({ messages: [user('x')], max_tokens: 5 }).generationConfig).toEqual({ maxOutputTokens: 5 });
  });

  it('n > 1 without streaming -> generationConfig.candidateCount; with streaming refused', () => {
    expect(translate({ messages: [user('x')], n: 3 }).generationConfig).toEqual({ candidateCount: 3 });
    expect(translate({ messages: [user('x')], n: 1 }).generationConfig).toBeUndefined();
    expect(() => translate({ messages: [user('x')], n: 2, stream: true }, true)).toThrow(new BadRequestError('n > 1 is not supported by gemini targets when streaming', 'n'));
  });

  it('refuses a file_id file part, audio output (modalities or audio) with their messages', () => {
    expect(() => translate({ messages: [user([{ type: 'file', file: { file_id: 'file-abc' } }])] })).toThrow('messages[0].content[0]: only inline file_data is supported by gemini targets (not file_id)');
    expect(() => translate({ messages: [user('x')], modalities: ['text', 'audio'] })).toThrow('audio output is not supported by gemini targets');
    expect(() => translate({ messages: [user('x')], audio: { voice: 'alloy', format: 'wav' } })).toThrow('audio output is not supported by gemini targets');
  });

  it('tool_choice: auto -> AUTO, none -> NONE, required -> ANY; none keeps the declarations', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const mode = (tool_choice: unknown) => translate({ messages: [user('x')], tools, tool_choice });
    expect(mode('auto').toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(mode('required').toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    const none = mode('none');
    expect(none.toolConfig).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(none.tools).toEqual([{ functionDeclarations: [{ name: 'f' }] }]);
    expect(translate({ messages: [user('x')], tools }).toolConfig).toBeUndefined();
  });

  it('legacy function_call and function messages: a functionCall without id, its functionResponse named by the message or the last call', () => {
    const out = translate({
      functions: [{ name: 'weather' }],
      messages: [
        user('Weather?'),
        { role: 'assistant', content: null, function_call: { name: 'weather', arguments: '{"city":"Paris"}' } },
        { role: 'function', content: '{"temp":21}' },
        { role: 'assistant', content: null, function_call: { name: 'weather', arguments: '{"city":"Rome"}' } },
        { role: 'function', name: 'weather', content: 'sunny' },
      ],
    });
    expect(out.contents.slice(1)).toEqual([
      { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: FOREIGN_THOUGHT_SIGNATURE }] },
      { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { temp: 21 } } }] },
      { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Rome' } }, thoughtSignature: FOREIGN_THOUGHT_SIGNATURE }] },
      { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { result: 'sunny' } } }] },
    ]);
    expect(() => translate({ messages: [user('x'), { role: 'function', content: 'r' }] })).toThrow(/must follow an assistant function_call/);
  });

  it('refuses logprobs, audio, and embeddings', () => {
    expect(() => translate({ messages: [user('x')], logprobs: true })).toThrow(/logprobs/);
    expect(() => geminiAdapter.buildRequest('embeddings', { model: 'x', input: 'a' }, target, { stream: false })).toThrow(/not supported by gemini/);
  });
});

const reply = (parts: unknown[], finishReason = 'STOP', extra: Body = {}) =>
  JSON.stringify({
    candidates: [{ content: { role: 'model', parts }, finishReason, index: 0 }],
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 3, cachedContentTokenCount: 4, totalTokenCount: 18 },
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp1',
    ...extra,
  });

function parse(text: string, request: Body = { messages: [] }): any {
  const r = geminiAdapter.parseResponse('chat', 200, text, target, request);
  return r.ok ? { ...JSON.parse(r.body), _usage: r.usage } : { error: r.error };
}

describe('response', () => {
  it('text, thoughts as reasoning_content, usage with thoughts and cached tokens', () => {
    const r = parse(reply([{ text: 'thinking…', thought: true }, { text: 'Hello' }, { text: ' world' }]));
    expect(r.id).toBe('chatcmpl-resp1');
    expect(r.choices[0]).toEqual({ index: 0, message: { role: 'assistant', content: 'Hello world', refusal: null, reasoning_content: 'thinking…' }, logprobs: null, finish_reason: 'stop' });
    expect(r.usage).toEqual({ prompt_tokens: 10, completion_tokens: 8, total_tokens: 18, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 3 } });
    expect(r._usage).toEqual({ prompt: 10, completion: 8 });
  });

  it('function calls -> tool_calls (Gemini ids kept), finish_reason tool_calls; legacy functions -> function_call', () => {
    const text = reply([{ functionCall: { id: 'fc1', name: 'weather', args: { city: 'Paris' } } }]);
    const r = parse(text);
    expect(r.choices[0].finish_reason).toBe('tool_calls');
    expect(r.choices[0].message.content).toBeNull();
    expect(r.choices[0].message.tool_calls).toEqual([{ id: 'fc1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }]);
    const legacy = parse(text, { messages: [], functions: [{ name: 'weather' }] });
    expect(legacy.choices[0].finish_reason).toBe('function_call');
    expect(legacy.choices[0].message.function_call).toEqual({ name: 'weather', arguments: '{"city":"Paris"}' });
  });

  it.each([
    ['STOP', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['SPII', 'content_filter'],
  ])('finishReason %s -> %s', (reason, finish) => {
    const r = parse(reply(reason === 'STOP' || reason === 'MAX_TOKENS' ? [{ text: 'x' }] : [], reason));
    expect(r.choices[0].finish_reason).toBe(finish);
    if (finish === 'content_filter') {
      expect(r.choices[0].message.refusal).toBe(`The response was blocked by Gemini (finishReason ${reason}).`);
      expect(r.choices[0].message.content).toBeNull();
    }
  });

  it('a malformed function call is a server-error (another target may do it)', () => {
    expect(parse(reply([], 'MALFORMED_FUNCTION_CALL')).error).toMatchObject({ errorClass: 'server-error', status: 502 });
  });

  it('a blocked prompt is a bad-request with code content_filter (no pointless fallback)', () => {
    const r = parse(JSON.stringify({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 3 } }));
    expect(r.error).toMatchObject({ errorClass: 'bad-request', status: 400, code: 'content_filter' });
    expect(r.error.message).toMatch(/blockReason SAFETY/);
  });

  it('n > 1: one choice per candidate', () => {
    const text = JSON.stringify({
      candidates: [
        { content: { parts: [{ text: 'a' }] }, finishReason: 'STOP', index: 0 },
        { content: { parts: [{ text: 'b' }] }, finishReason: 'STOP', index: 1 },
      ],
    });
    expect(parse(text).choices.map((c: Body) => c.message.content)).toEqual(['a', 'b']);
  });
});

const err = (status: number, name: string, message: string, details?: unknown[]) =>
  geminiAdapter.parseError(status, JSON.stringify({ error: { code: status, message, status: name, ...(details ? { details } : {}) } }));

describe('errors', () => {
  it.each([
    [429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).', 'rate-limit'],
    [503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.', 'server-error'],
    [500, 'INTERNAL', 'An internal error has occurred.', 'server-error'],
    [400, 'INVALID_ARGUMENT', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', 'context-window'],
    [400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.', 'bad-request'],
    [403, 'PERMISSION_DENIED', 'Method doesn\'t allow unregistered callers.', 'auth'],
    [401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.', 'auth'],
    [404, 'NOT_FOUND', 'models/gemini-9 is not found for API version v1beta.', 'not-found'],
    [400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.', 'auth'],
    [504, 'DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.', 'server-error'],
  ])('%i %s -> %s', (status, name, message, cls) => {
    expect(err(status, name, message).errorClass).toBe(cls);
  });

  it('an invalid API key (400 INVALID_ARGUMENT, reason API_KEY_INVALID) is auth', () => {
    const e = err(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }]);
    expect(e).toMatchObject({ errorClass: 'auth', status: 401, code: 'invalid_api_key' });
  });

  it('an expired API key (400 INVALID_ARGUMENT, reason API_KEY_EXPIRED) is auth', () => {
    const e = err(400, 'INVALID_ARGUMENT', 'API key expired. Please renew the API key.', [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_EXPIRED', domain: 'googleapis.com' }]);
    expect(e).toMatchObject({ errorClass: 'auth', status: 401, code: 'invalid_api_key' });
  });

  it('a deadline exceeded (504 DEADLINE_EXCEEDED) keeps the timeout code', () => {
    expect(err(504, 'DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.')).toMatchObject({ status: 504, code: 'timeout' });
  });

  it('a context-window error carries context_length_exceeded; HTML bodies keep their text', () => {
    expect(err(400, 'INVALID_ARGUMENT', 'The input token count (2000000) exceeds the maximum number of tokens allowed (1048576).').code).toBe('context_length_exceeded');
    expect(geminiAdapter.parseError(502, '<html>Bad Gateway</html>')).toMatchObject({ errorClass: 'server-error', message: '<html>Bad Gateway</html>' });
  });
});

function streamOf(events: unknown[], request: Body = { messages: [], stream_options: { include_usage: true } }): { steps: StreamStep[]; chunks: Body[] } {
  const decoder = geminiAdapter.createStreamDecoder(target, request);
  const steps = events.map((e) => decoder.push({ data: typeof e === 'string' ? e : JSON.stringify(e) }));
  return { steps, chunks: steps.flatMap((s) => s.out.map((o) => JSON.parse(o) as Body)) };
}

describe('stream', () => {
  const usage = { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 };
  it('text pieces, the finish chunk, usage; content marks the commit point', () => {
    const { steps, chunks } = streamOf([
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }], usageMetadata: { promptTokenCount: 4 }, responseId: 'r1', modelVersion: 'gemini-2.5-flash' },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'lo' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: usage, responseId: 'r1' },
    ]);
    expect(steps.map((s) => [s.content, s.finished])).toEqual([[true, false], [true, true]]);
    expect(steps[1]!.usage).toEqual({ prompt: 4, completion: 2 });
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { content: 'Hel' }, { content: 'lo' }, {}, undefined]);
    expect(chunks[3]!.choices[0].finish_reason).toBe('stop');
    expect(chunks[4]!.usage).toEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-r1']));
  });

  it('a function call goes out whole; finish_reason tool_calls', () => {
    const { chunks } = streamOf([{ candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: { a: 1 } } }] }, finishReason: 'STOP' }], usageMetadata: usage }]);
    expect(chunks[1]!.choices[0].delta.tool_calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'f', arguments: '{"a":1}' } });
    expect(chunks[1]!.choices[0].delta.tool_calls[0].id).toMatch(/^call_/);
    expect(chunks[2]!.choices[0].finish_reason).toBe('tool_calls');
  });

  it('SAFETY mid-stream: a refusal and content_filter', () => {
    const { steps, chunks } = streamOf([
      { candidates: [{ content: { parts: [{ text: 'Sure' }] } }] },
      { candidates: [{ finishReason: 'SAFETY', safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }] }] },
    ]);
    expect(steps[1]!.finished).toBe(true);
    expect(chunks.at(-3)!.choices[0].delta).toEqual({ refusal: 'The response was blocked by Gemini (finishReason SAFETY).' });
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('content_filter');
  });

  it('a blocked prompt, an error event and garbage are errors', () => {
    expect(streamOf([{ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } }]).steps[0]!.error).toMatchObject({ errorClass: 'bad-request', code: 'content_filter' });
    const mid = streamOf([{ candidates: [{ content: { parts: [{ text: 'a' }] } }] }, { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }]);
    expect(mid.steps[1]!.error).toMatchObject({ errorClass: 'server-error', status: 503 });
    expect(streamOf(['{"candidates": [']).steps[0]!.error).toMatchObject({ code: 'invalid_provider_response' });
  });
});
