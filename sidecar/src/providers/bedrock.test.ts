/**
 * The bedrock adapter: Converse translation, responses, errors by type,
 * stream frames (encoded here by the fakes' independent encoder, decoded
 * by the adapter with @smithy/eventstream-codec, CRCs checked), SigV4
 * signing for the regional host, and no AWS module loaded by a sidecar
 * that has no bedrock target.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import aws4 from 'aws4';
import type { BadRequestError } from '../errors.ts';
import { Secret } from '../secret.ts';
import { bedrockAdapter, converseURL } from './bedrock.ts';
import { readBedrockSecret } from './bedrock-auth.ts';
import type { ProviderTarget, StreamStep } from './types.ts';
import { encodeFrame, eventFrame, exceptionFrame } from '../../../test/fakes/eventstream.ts';

type Body = Record<string, any>;
const MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const target: ProviderTarget = { provider: 'bedrock', model: MODEL, baseURL: 'https://bedrock-runtime.us-east-1.amazonaws.com', region: 'us-east-1' };
const translate = (body: Body): Body => JSON.parse(bedrockAdapter.buildRequest('chat', { model: 'x', ...body }, target, { stream: false }).body) as Body;

describe('request', () => {
  it('URL: the model id is one path segment', () => {
    expect(converseURL('https://vpce-1.example/', MODEL, true)).toBe(`https://vpce-1.example/model/${encodeURIComponent(MODEL)}/converse-stream`);
  });

  it('system, merged turns, a user turn first, tools and results, images, documents, inferenceConfig', () => {
    const out = translate({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } }] },
        { role: 'user', content: [{ type: 'file', file: { filename: 'report.pdf', file_data: 'data:application/pdf;base64,JVBER' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'tu1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'tu1', content: 'done' },
      ],
      tools: [{ type: 'function', function: { name: 'f', description: 'F', parameters: { type: 'object', properties: { a: { type: 'number' } } } } }],
      tool_choice: 'required',
      max_tokens: 100,
      temperature: 1.5,
      top_p: 0.9,
      stop: ['END', ' '],
    });
    expect(out.system).toEqual([{ text: 'Be brief.' }]);
    expect(out.messages).toEqual([
      { role: 'user', content: [{ text: '(conversation start)' }] },
      { role: 'assistant', content: [{ text: 'Hello!' }] },
      { role: 'user', content: [{ text: 'Look' }, { image: { format: 'png', source: { bytes: 'iVBOR' } } }, { document: { format: 'pdf', name: 'report', source: { bytes: 'JVBER' } } }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'tu1', name: 'f', input: { a: 1 } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tu1', content: [{ text: 'done' }] } }] },
    ]);
    expect(out.toolConfig).toEqual({ tools: [{ toolSpec: { name: 'f', description: 'F', inputSchema: { json: { type: 'object', properties: { a: { type: 'number' } } } } } }], toolChoice: { any: {} } });
    expect(out.inferenceConfig).toEqual({ maxTokens: 100, temperature: 1, topP: 0.9, stopSequences: ['END'] });
  });

  it('refuses n > 1, logprobs, image URLs and unknown image types', () => {
    const user = (content: unknown) => ({ messages: [{ role: 'user', content }] });
    expect(() => translate({ ...user('x'), n: 2 })).toThrow(/n > 1/);
    expect(() => translate({ ...user('x'), logprobs: true })).toThrow(/logprobs/);
    expect(() => translate(user([{ type: 'image_url', image_url: { url: 'https://x/i.png' } }]))).toThrow(/data: URLs only/);
    expect(() => translate(user([{ type: 'image_url', image_url: { url: 'data:image/tiff;base64,AA' } }]))).toThrow(/png, jpeg, gif and webp/);
  });

  it('response_format json_object and json_schema: an instruction appended as the last system block', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'x' }];
    expect(translate({ messages, response_format: { type: 'json_object' } }).system).toEqual([
      { text: 'Be brief.' },
      { text: 'Respond with a single valid JSON object and nothing else.' },
    ]);
    expect(translate({ messages, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }).system).toEqual([
      { text: 'Be brief.' },
      { text: `Respond with a single valid JSON object that conforms to this JSON schema: ${JSON.stringify(schema)}. Output only the JSON, nothing else.` },
    ]);
    expect(translate({ messages: [messages[1]], response_format: { type: 'json_schema', json_schema: { name: 'x' } } }).system).toEqual([
      { text: 'Respond with a single valid JSON object. Output only the JSON, nothing else.' },
    ]);
    const text = translate({ messages: [messages[1]], response_format: { type: 'text' } });
    expect(text.system).toBeUndefined();
    expect(text.outputConfig).toBeUndefined();
  });

  it('tool_choice: auto -> auto, required -> any, a named function -> tool; none leaves the tools out', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const messages = [{ role: 'user', content: 'x' }];
    const spec = [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object', properties: {} } } } }];
    expect(translate({ messages, tools }).toolConfig).toEqual({ tools: spec });
    expect(translate({ messages, tools, tool_choice: 'auto' }).toolConfig).toEqual({ tools: spec, toolChoice: { auto: {} } });
    expect(translate({ messages, tools, tool_choice: 'required' }).toolConfig).toEqual({ tools: spec, toolChoice: { any: {} } });
    expect(translate({ messages, tools, tool_choice: { type: 'function', function: { name: 'f' } } }).toolConfig).toEqual({ tools: spec, toolChoice: { tool: { name: 'f' } } });
    expect(translate({ messages, tools, tool_choice: 'none' }).toolConfig).toBeUndefined();
  });

  it('tool_choice none with tool blocks in the history: the tools stay (Converse needs them), with no toolChoice', () => {
    const out = translate({
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'tu1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'tu1', content: 'done' },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: 'none',
    });
    expect(out.toolConfig).toEqual({ tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object', properties: {} } } } }] });
  });

  it.each([
    ['text/csv', 'csv'],
    ['application/msword', 'doc'],
    ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx'],
    ['application/vnd.ms-excel', 'xls'],
    ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'xlsx'],
    ['text/html', 'html'],
    ['text/plain', 'txt'],
    ['text/markdown', 'md'],
  ])('a file part of type %s -> a document of format %s', (mediaType, format) => {
    const out = translate({ messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'q3 sales.v2.dat', file_data: `data:${mediaType};base64,QUJD` } }] }] });
    expect(out.messages[0].content).toEqual([{ document: { format, name: 'q3 sales-v2', source: { bytes: 'QUJD' } } }]);
  });

  it('document names: without a filename document-<n>, in order', () => {
    const file = { type: 'file', file: { file_data: 'data:text/plain;base64,QQ==' } };
    const out = translate({ messages: [{ role: 'user', content: [file, file] }] });
    expect(out.messages[0].content.map((b: Body) => b.document.name)).toEqual(['document-1', 'document-2']);
  });

  it('refuses a document type Converse does not take, a file_id file, audio input, audio output and embeddings', () => {
    const user = (content: unknown) => ({ messages: [{ role: 'user', content }] });
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return { name: (e as Error).constructor.name, message: (e as Error).message, param: (e as BadRequestError).param };
      }
      return undefined;
    };
    expect(refusal(() => translate(user([{ type: 'file', file: { file_data: 'data:application/zip;base64,UEs=' } }])))).toEqual({
      name: 'BadRequestError',
      message: 'messages[0].content[0]: bedrock takes pdf, csv, doc, docx, xls, xlsx, html, txt and md documents, not application/zip',
      param: 'messages[0].content[0].file.file_data',
    });
    expect(refusal(() => translate(user([{ type: 'file', file: { file_id: 'file-abc' } }])))).toEqual({
      name: 'BadRequestError',
      message: 'messages[0].content[0]: only inline file_data is supported by bedrock targets (not file_id)',
      param: 'messages[0].content[0].file',
    });
    expect(refusal(() => translate(user([{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }])))).toEqual({
      name: 'BadRequestError',
      message: "messages[0].content[0].type 'input_audio' is not supported by bedrock targets",
      param: 'messages[0].content[0].type',
    });
    const audioOut = { name: 'BadRequestError', message: 'audio output is not supported by bedrock targets', param: 'modalities' };
    expect(refusal(() => translate({ ...user('x'), modalities: ['text', 'audio'] }))).toEqual(audioOut);
    expect(refusal(() => translate({ ...user('x'), audio: { voice: 'alloy', format: 'wav' } }))).toEqual(audioOut);
    expect(refusal(() => bedrockAdapter.buildRequest('embeddings', { model: 'x', input: 'a' }, target, { stream: false }))).toEqual({
      name: 'BadRequestError',
      message: 'embeddings requests are not supported by bedrock targets; route them to an OpenAI-compatible target',
      param: 'model',
    });
  });
});

describe('response and errors', () => {
  it('text, tool use, reasoning, usage with cache tokens; stop reasons', () => {
    const r = bedrockAdapter.parseResponse('chat', 200, JSON.stringify({
      output: { message: { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'hmm', signature: 's' } } }, { text: 'Hi' }, { toolUse: { toolUseId: 't1', name: 'f', input: { a: 1 } } }] } },
      stopReason: 'tool_use',
      usage: { inputTokens: 5, outputTokens: 3, totalTokens: 8, cacheReadInputTokens: 2 },
    }), target);
    expect(r.ok).toBe(true);
    const body = JSON.parse((r as { body: string }).body);
    expect(body.choices[0].message).toEqual({ role: 'assistant', content: 'Hi', refusal: null, reasoning_content: 'hmm', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] });
    expect(body.choices[0].finish_reason).toBe('tool_calls');
    expect(body.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10, prompt_tokens_details: { cached_tokens: 2 } });
    const stop = (s: string) => JSON.parse((bedrockAdapter.parseResponse('chat', 200, JSON.stringify({ output: { message: { content: [] } }, stopReason: s }), target) as { body: string }).body).choices[0];
    expect(stop('end_turn').finish_reason).toBe('stop');
    expect(stop('stop_sequence').finish_reason).toBe('stop');
    expect(stop('max_tokens').finish_reason).toBe('length');
    expect(stop('guardrail_intervened')).toMatchObject({ finish_reason: 'content_filter', message: { refusal: 'The response was blocked by a Bedrock guardrail.' } });
    expect(stop('content_filtered').finish_reason).toBe('content_filter');
  });

  it.each([
    [429, 'ThrottlingException', 'Too many requests, please wait before trying again.', 'rate-limit'],
    [429, 'ModelNotReadyException', 'Model is not ready for inference.', 'server-error'],
    [503, 'ServiceUnavailableException', 'Service unavailable.', 'server-error'],
    [500, 'InternalServerException', 'Internal error.', 'server-error'],
    [400, 'ValidationException', 'Input is too long for requested model.', 'context-window'],
    [400, 'ValidationException', 'prompt is too long: 250000 tokens > 200000 maximum', 'context-window'],
    [400, 'ValidationException', 'A conversation must alternate between user and assistant roles.', 'bad-request'],
    [403, 'AccessDeniedException', "You don't have access to the model with the specified model ID.", 'auth'],
    [403, 'UnrecognizedClientException', 'The security token included in the request is invalid.', 'auth'],
    [404, 'ResourceNotFoundException', 'Could not resolve the foundation model.', 'not-found'],
    [400, 'ServiceQuotaExceededException', 'Your request exceeds the service quota for your account.', 'rate-limit'],
    [408, 'ModelTimeoutException', 'Model has timed out in processing the request.', 'timeout'],
    [403, 'ExpiredTokenException', 'The security token included in the request is expired', 'auth'],
    [403, 'MissingAuthenticationTokenException', 'Missing Authentication Token', 'auth'],
    [424, 'ModelErrorException', 'The model produced an error while processing the request.', 'server-error'],
  ])('%i %s -> %s (type from x-amzn-errortype)', (status, type, message, cls) => {
    const e = bedrockAdapter.parseError(status, JSON.stringify({ message }), { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
    expect(e.errorClass).toBe(cls);
    expect(e.message).toBe(message);
  });

  it('the type from the body (__type) when there is no header', () => {
    expect(bedrockAdapter.parseError(400, JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message: 'Input is too long for requested model.' })).code).toBe('context_length_exceeded');
  });
});

async function decoder(request: Body = { stream_options: { include_usage: true } }) {
  // prepare() loads the codec (and signs: a bearer key needs no AWS call).
  await bedrockAdapter.prepare!({ url: converseURL(target.baseURL, MODEL, true), headers: {}, body: '{}' }, { ...target, apiKey: new Secret('ABSK-key') }, new AbortController().signal);
  return bedrockAdapter.createStreamDecoder(target, request);
}

describe('stream frames', () => {
  it('events to chunks, across arbitrary byte splits; finished with usage at metadata', async () => {
    const d = await decoder();
    const bytes = Buffer.concat([
      eventFrame('messageStart', { p: 'ab', role: 'assistant' }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hel' }, p: 'x' }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'lo' }, p: 'xy' }),
      eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
      eventFrame('messageStop', { stopReason: 'end_turn' }),
      eventFrame('metadata', { usage: { inputTokens: 4, outputTokens: 2, totalTokens: 6 }, metrics: { latencyMs: 1 } }),
    ]);
    const steps: StreamStep[] = [];
    for (let i = 0; i < bytes.length; i += 7) steps.push(...d.pushBytes!(bytes.subarray(i, i + 7)));
    const chunks = steps.flatMap((s) => s.out.map((o) => JSON.parse(o) as Body));
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { content: 'Hel' }, { content: 'lo' }, {}, undefined]);
    expect(chunks[3]!.choices[0].finish_reason).toBe('stop');
    expect(chunks[4]!.usage).toEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
    expect(steps.at(-1)).toMatchObject({ finished: true, usage: { prompt: 4, completion: 2 } });
    expect(steps.filter((s) => s.content)).toHaveLength(2);
  });

  it('tool use deltas; exception and error frames are classified errors', async () => {
    const d = await decoder({});
    const steps = d.pushBytes!(Buffer.concat([
      eventFrame('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 't1', name: 'f' } } }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"a":' } } }),
      exceptionFrame('throttlingException', 'Too many tokens, please wait before trying again.'),
    ]));
    expect(JSON.parse(steps[0]!.out[0]!).choices[0].delta.tool_calls[0]).toEqual({ index: 0, id: 't1', type: 'function', function: { name: 'f', arguments: '' } });
    expect(JSON.parse(steps[1]!.out[0]!).choices[0].delta.tool_calls[0].function.arguments).toBe('{"a":');
    expect(steps[2]!.error).toMatchObject({ errorClass: 'rate-limit', message: 'Too many tokens, please wait before trying again.' });
    const e = (await decoder({})).pushBytes!(encodeFrame({ ':message-type': 'error', ':error-code': 'InternalServerException', ':error-message': 'boom' }, ''));
    expect(e[0]!.error).toMatchObject({ errorClass: 'server-error', message: 'boom' });
  });

  it.each([
    ['guardrail_intervened', 'The response was blocked by a Bedrock guardrail.'],
    ['content_filtered', 'The response was blocked by the content filter of the model on Bedrock.'],
  ])('a %s stop in a stream: a refusal chunk, then finish_reason content_filter, finished at metadata', async (stopReason, refusal) => {
    const d = await decoder();
    const steps = d.pushBytes!(Buffer.concat([
      eventFrame('messageStart', { role: 'assistant' }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Sure, ' } }),
      eventFrame('messageStop', { stopReason }),
      eventFrame('metadata', { usage: { inputTokens: 4, outputTokens: 2, totalTokens: 6 } }),
    ]));
    const chunks = steps.flatMap((s) => s.out.map((o) => JSON.parse(o) as Body));
    expect(chunks.map((c) => [c.choices[0]?.delta, c.choices[0]?.finish_reason])).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [{ content: 'Sure, ' }, null],
      [{ refusal }, null],
      [{}, 'content_filter'],
      [undefined, undefined],
    ]);
    expect(steps.map((s) => [s.content, s.finished])).toEqual([[false, false], [true, false], [true, false], [false, true]]);
  });

  it('a modelStreamErrorException after content: an error step, server-error 502 with code model_error', async () => {
    const d = await decoder();
    const steps = d.pushBytes!(Buffer.concat([
      eventFrame('messageStart', { role: 'assistant' }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hel' } }),
      exceptionFrame('modelStreamErrorException', 'The model stream was interrupted.'),
    ]));
    expect(steps[1]!.content).toBe(true);
    expect(steps[2]!.out).toEqual([]);
    expect(steps[2]!.error).toMatchObject({ errorClass: 'server-error', status: 502, code: 'model_error', message: 'The model stream was interrupted.' });
  });

  it('a frame with a bad CRC throws (the stream cannot go on)', async () => {
    const frame = eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'x' } });
    frame.writeUInt8(frame.readUInt8(frame.length - 6) ^ 0xff, frame.length - 6);
    const d = await decoder();
    expect(() => d.pushBytes!(frame)).toThrow(/checksum/);
  });
});

describe('auth', () => {
  it('Secret formats: a key pair as JSON, else a bearer API key; malformed JSON refused without echoing it', () => {
    expect(readBedrockSecret('{"accessKeyId":"AKIA1","secretAccessKey":"s","sessionToken":"t"}')).toEqual({ kind: 'keys', credentials: { accessKeyId: 'AKIA1', secretAccessKey: 's', sessionToken: 't' } });
    expect(readBedrockSecret('ABSKxyz\n')).toEqual({ kind: 'bearer', key: 'ABSKxyz' });
    expect(() => readBedrockSecret('{"accessKeyId":"AKIA1","secret":"hunter2"}')).toThrow(/without accessKeyId and secretAccessKey/);
    try {
      readBedrockSecret('{"accessKeyId":"AKIA1","secret":"hunter2"}');
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('hunter2');
    }
  });

  it('SigV4 for the regional host, whatever the endpoint, verifiable with aws4', async () => {
    const keys = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'tok' };
    const t: ProviderTarget = { ...target, baseURL: 'http://vpce-123.example:8080', apiKey: new Secret(JSON.stringify(keys)) };
    const built = bedrockAdapter.buildRequest('chat', { model: 'x', messages: [{ role: 'user', content: 'hi' }] }, t, { stream: false });
    const signed = await bedrockAdapter.prepare!(built, t, new AbortController().signal);
    expect(signed.url).toBe(built.url);
    expect(signed.headers.host).toBe('bedrock-runtime.us-east-1.amazonaws.com');
    expect(signed.headers['x-amz-security-token']).toBe('tok');
    const signedNames = /SignedHeaders=([^,]+)/.exec(signed.headers.authorization!)![1]!.split(';');
    const headers = Object.fromEntries(signedNames.map((n) => [n, signed.headers[n]!]));
    const path = new URL(built.url).pathname;
    const check = aws4.sign({ host: 'bedrock-runtime.us-east-1.amazonaws.com', path, method: 'POST', headers, body: built.body, service: 'bedrock', region: 'us-east-1', extraHeadersToIgnore: { 'content-length': true } } as aws4.Request, keys);
    expect((check.headers as Record<string, string>).Authorization).toBe(signed.headers.authorization);
    expect(JSON.stringify(signed.headers)).not.toContain(keys.secretAccessKey);
  });
});

describe('no cost for those who do not use it', () => {
  it('loading the adapters (every provider) loads no AWS or Google module; a bedrock request loads the AWS ones', () => {
    const index = fileURLToPath(new URL('./index.ts', import.meta.url));
    const script = `await import(${JSON.stringify(index)}); const { createRequire } = await import('node:module'); const r = createRequire(import.meta.url); process.stdout.write(JSON.stringify(Object.keys(r.cache).filter((k) => /@(aws-sdk|smithy|aws-crypto)|google-auth-library|gaxios/.test(k))));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    expect(loaded).toEqual([]);
    const bedrock = fileURLToPath(new URL('./bedrock.ts', import.meta.url));
    const used = `const { bedrockAdapter } = await import(${JSON.stringify(bedrock)}); const { Secret } = await import(${JSON.stringify(fileURLToPath(new URL('../secret.ts', import.meta.url)))}); await bedrockAdapter.prepare({ url: 'https://h/model/m/converse', headers: {}, body: '{}' }, { provider: 'bedrock', model: 'm', baseURL: 'https://h', region: 'us-east-1', apiKey: new Secret('{"accessKeyId":"A","secretAccessKey":"B"}') }, new AbortController().signal); const { createRequire } = await import('node:module'); const r = createRequire(import.meta.url); process.stdout.write(JSON.stringify(Object.keys(r.cache).filter((k) => k.includes('@smithy/signature-v4')).length > 0));`;
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', used], { encoding: 'utf8' })).toBe('true');
  });
});
