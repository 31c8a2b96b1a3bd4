/**
 * The vertex adapter: URLs by publisher and location, the Claude body
 * (vertex anthropic_version, no model), errors in either shape, the
 * service-account Secret's format, and google-auth-library loaded only by a
 * vertex request.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vertexHost } from '../../../api/v1alpha1/enums.ts';
import { keyTokenUri, readVertexSecret } from './vertex-auth.ts';
import { vertexAdapter, vertexURL } from './vertex.ts';
import type { ProviderTarget } from './types.ts';

type Body = Record<string, any>;
const GEMINI = 'gemini-2.5-flash';
const CLAUDE = 'claude-sonnet-4-5@20250929';
const translate = (model: string, body: Body, stream = false): Body => JSON.parse(vertexAdapter.buildRequest('chat', { model: 'x', ...body }, target(model), { stream }).body) as Body;
const user = (content: unknown) => ({ role: 'user', content });
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return { name: (e as Error).constructor.name, message: (e as Error).message, param: (e as { param?: string }).param };
  }
  return undefined;
};

const target = (model: string): ProviderTarget => ({ provider: 'vertex', model, baseURL: `https://${vertexHost('us-east5')}`, project: 'my-project-1', location: 'us-east5' });

describe('vertex', () => {
  it('URLs: google and anthropic publishers, global host, versioned Claude names', () => {
    expect(vertexHost('global')).toBe('aiplatform.googleapis.com');
    expect(vertexURL('https://aiplatform.googleapis.com/', 'p-1', 'global', 'gemini-2.5-pro', true)).toBe(
      'https://aiplatform.googleapis.com/v1/projects/p-1/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    expect(vertexURL('https://us-east5-aiplatform.googleapis.com', 'p-1', 'us-east5', 'claude-sonnet-4-5@20250929', false)).toBe(
      'https://us-east5-aiplatform.googleapis.com/v1/projects/p-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict',
    );
    expect(vertexURL('https://h', 'p-1', 'us-east5', 'claude-opus-4-1', true)).toMatch(/anthropic\/models\/claude-opus-4-1:streamRawPredict$/);
  });

  it('Claude: the Messages body with the vertex anthropic_version and no model; Gemini: the gemini body', () => {
    const c = JSON.parse(vertexAdapter.buildRequest('chat', { model: 'x', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Hi' }] }, target('claude-sonnet-4-5@20250929'), { stream: true }).body);
    expect(c).toMatchObject({ anthropic_version: 'vertex-2023-10-16', system: 'S', stream: true, messages: [{ role: 'user' }] });
    expect(c.model).toBeUndefined();
    expect(c.max_tokens).toBeGreaterThan(0);
    const g = JSON.parse(vertexAdapter.buildRequest('chat', { model: 'x', messages: [{ role: 'user', content: 'Hi' }] }, target('gemini-2.5-flash'), { stream: false }).body);
    expect(g).toMatchObject({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
    expect(() => vertexAdapter.buildRequest('embeddings', { model: 'x', input: 'a' }, target('gemini-2.5-flash'), { stream: false })).toThrow(/not supported by vertex/);
  });

  it('errors: Google shape (Vertex itself) and Anthropic shape (Claude)', () => {
    expect(vertexAdapter.parseError(401, JSON.stringify({ error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } })).errorClass).toBe('auth');
    expect(vertexAdapter.parseError(429, JSON.stringify({ error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } })).errorClass).toBe('rate-limit');
    expect(vertexAdapter.parseError(529, JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })).errorClass).toBe('server-error');
  });

  it('a Secret is a service-account key file; errors name no value', () => {
    const key = { type: 'service_account', client_email: 'a@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n' };
    expect(readVertexSecret(JSON.stringify(key))).toMatchObject({ client_email: key.client_email });
    expect(() => readVertexSecret('AIza-not-json')).toThrow(/not a service-account key file/);
    expect(() => readVertexSecret(JSON.stringify({ ...key, type: 'authorized_user' }))).toThrow(/"type": "service_account"/);
    expect(() => readVertexSecret(JSON.stringify({ ...key, private_key: '' }))).toThrow(/no private_key/);
  });

  it("a key's token_uri: Google's own is left to the library; another must be https or loopback http", () => {
    expect(keyTokenUri({})).toBeUndefined();
    expect(keyTokenUri({ token_uri: 'https://oauth2.googleapis.com/token' })).toBeUndefined();
    expect(keyTokenUri({ token_uri: 'https://oauth2.example.test/token' })?.href).toBe('https://oauth2.example.test/token');
    expect(keyTokenUri({ token_uri: 'http://127.0.0.1:8080/token' })?.href).toBe('http://127.0.0.1:8080/token');
    expect(() => keyTokenUri({ token_uri: 'http://oauth2.example.test/token' })).toThrow(/neither https nor a loopback/);
    expect(() => keyTokenUri({ token_uri: 'not a url' })).toThrow(/not a URL/);
  });

  it('no cost for those who do not use it: google-auth-library loads on the first vertex request only', () => {
    const vertex = fileURLToPath(new URL('./vertex.ts', import.meta.url));
    const probe = `const { createRequire } = await import('node:module'); const r = createRequire(import.meta.url); const n = () => Object.keys(r.cache).filter((k) => /google-auth-library|gaxios|gcp-metadata/.test(k)).length;`;
    const script = `${probe} const { vertexAdapter } = await import(${JSON.stringify(vertex)}); const before = n(); const { Secret } = await import(${JSON.stringify(fileURLToPath(new URL('../secret.ts', import.meta.url)))}); await vertexAdapter.prepare({ url: 'https://h/x', headers: {}, body: '{}' }, { provider: 'vertex', model: 'm', baseURL: 'https://h', project: 'p', location: 'l', apiKey: new Secret('not json') }, new AbortController().signal).catch(() => {}); process.stdout.write(JSON.stringify([before, n() > 0]));`;
    expect(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }))).toEqual([0, true]);
  });

  it('no Google identity to be had: a CredentialsError that names the source', () => {
    const vertex = fileURLToPath(new URL('./vertex.ts', import.meta.url));
    const script = `const { vertexAdapter } = await import(${JSON.stringify(vertex)}); try { await vertexAdapter.prepare({ url: 'https://h/x', headers: {}, body: '{}' }, { provider: 'vertex', model: 'm', baseURL: 'https://h', project: 'p', location: 'l' }, new AbortController().signal); process.stdout.write('no error'); } catch (e) { process.stdout.write(JSON.stringify([e.code, e.message])); }`;
    // Port 1: below the ephemeral range, refused (test/fakes/refused-port.ts); no gcloud credentials in the HOME.
    const env = { ...process.env, GCE_METADATA_HOST: '127.0.0.1:1', HOME: '/nonexistent', GOOGLE_APPLICATION_CREDENTIALS: '' };
    const [code, message] = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env })) as [string, string];
    expect(code).toBe('credentials_unavailable');
    expect(message).toMatch(/^no Google access token for vertex from the pod's Google identity \(GKE Workload Identity, the metadata server\)/);
  });

  it('Gemini publisher: tools and tool_choice as gemini has them; a data: URL image -> inlineData', () => {
    const g = translate(GEMINI, {
      messages: [user([{ type: 'text', text: 'Weather here?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4A' } }])],
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'required',
    });
    expect(g.contents).toEqual([{ role: 'user', parts: [{ text: 'Weather here?' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/4A' } }] }]);
    expect(g.tools).toEqual([{ functionDeclarations: [{ name: 'weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } } }] }]);
    expect(g.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
  });

  it('Gemini publisher: a functionCall answer -> tool_calls, finish_reason tool_calls', () => {
    const r = vertexAdapter.parseResponse('chat', 200, JSON.stringify({
      candidates: [{ content: { role: 'model', parts: [{ functionCall: { id: 'fc1', name: 'weather', args: { city: 'Paris' } } }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3, totalTokenCount: 10 },
      responseId: 'v1',
    }), target(GEMINI), { messages: [] });
    expect(r.ok).toBe(true);
    const choice = JSON.parse((r as { body: string }).body).choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message).toMatchObject({ content: null, tool_calls: [{ id: 'fc1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] });
  });

  it('Gemini publisher: a streamed functionCall -> one tool_calls delta, finish_reason tool_calls', () => {
    const d = vertexAdapter.createStreamDecoder(target(GEMINI), { messages: [] });
    const step = d.push({ data: JSON.stringify({ candidates: [{ content: { parts: [{ functionCall: { id: 'fc1', name: 'weather', args: { city: 'Paris' } } }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3 } }) });
    expect(step).toMatchObject({ content: true, finished: true });
    const chunks = step.out.map((o) => JSON.parse(o as string) as Body);
    expect(chunks[1]!.choices[0].delta.tool_calls).toEqual([{ index: 0, id: 'fc1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }]);
    expect(chunks[2]!.choices[0].finish_reason).toBe('tool_calls');
  });

  it("Gemini publisher: a SAFETY finish is gemini's content_filter with a refusal, whole and streamed", () => {
    const blocked = { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'SAFETY', index: 0 }] };
    const r = vertexAdapter.parseResponse('chat', 200, JSON.stringify(blocked), target(GEMINI), { messages: [] });
    expect(r.ok).toBe(true);
    expect(JSON.parse((r as { body: string }).body).choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: null, refusal: 'The response was blocked by Gemini (finishReason SAFETY).' } });
    const d = vertexAdapter.createStreamDecoder(target(GEMINI), { messages: [] });
    d.push({ data: JSON.stringify({ candidates: [{ content: { parts: [{ text: 'Sure' }] } }] }) });
    const step = d.push({ data: JSON.stringify({ candidates: [{ finishReason: 'SAFETY' }] }) });
    const chunks = step.out.map((o) => JSON.parse(o as string) as Body);
    expect(step.finished).toBe(true);
    expect(chunks.map((c) => [c.choices[0]?.delta, c.choices[0]?.finish_reason])).toEqual([
      [{ refusal: 'The response was blocked by Gemini (finishReason SAFETY).' }, null],
      [{}, 'content_filter'],
    ]);
  });

  it('Gemini publisher: refusals name vertex targets', () => {
    expect(refusal(() => translate(GEMINI, { messages: [user('x')], logprobs: true }))).toEqual({ name: 'BadRequestError', message: 'logprobs are not supported by vertex targets', param: 'logprobs' });
    expect(refusal(() => translate(GEMINI, { messages: [user('x')], n: 2, stream: true }, true))).toEqual({ name: 'BadRequestError', message: 'n > 1 is not supported by vertex targets when streaming', param: 'n' });
    expect(refusal(() => translate(GEMINI, { messages: [user([{ type: 'image_url', image_url: { url: 'https://x/i.png' } }])] }))?.message).toBe(
      'messages[0].content[0].image_url.url: vertex targets take images and files as base64 data: URLs only',
    );
  });

  it('Claude: a data: URL image -> a base64 image source', () => {
    const c = translate(CLAUDE, { messages: [user([{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } }])] });
    expect(c.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } }] }]);
  });

  it('Claude: an http(s) image URL is refused (Vertex takes no URL sources), naming vertex', () => {
    expect(refusal(() => translate(CLAUDE, { messages: [user([{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }])] }))).toEqual({
      name: 'BadRequestError',
      message: 'messages[0].content[0].image_url.url: vertex targets take images as base64 data: URLs only',
      param: 'messages[0].content[0].image_url.url',
    });
  });

  it.each([CLAUDE, 'claude-opus-4-6'])('Claude (%s): response_format json_schema -> the system instruction, no output_config.format', (model) => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
    const c = translate(model, { messages: [{ role: 'system', content: 'S' }, user('x')], response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } });
    expect(c.output_config).toBeUndefined();
    expect(c.system).toBe(`S\n\nRespond with a single valid JSON object that conforms to this JSON schema: ${JSON.stringify(schema)}. Output only the JSON, nothing else.`);
  });

  it('Claude: refusals (n > 1, logprobs, audio output, unsupported parts, file_id) name vertex targets', () => {
    expect(refusal(() => translate(CLAUDE, { messages: [user('x')], n: 2 }))).toEqual({ name: 'BadRequestError', message: 'n > 1 is not supported by vertex targets (one choice per request)', param: 'n' });
    expect(refusal(() => translate(CLAUDE, { messages: [user('x')], logprobs: true }))).toEqual({ name: 'BadRequestError', message: 'logprobs are not supported by vertex targets', param: 'logprobs' });
    expect(refusal(() => translate(CLAUDE, { messages: [user('x')], modalities: ['audio'] }))?.message).toBe('audio output is not supported by vertex targets');
    expect(refusal(() => translate(CLAUDE, { messages: [user([{ type: 'input_audio', input_audio: {} }])] }))?.message).toBe("messages[0].content[0].type 'input_audio' is not supported by vertex targets");
    expect(refusal(() => translate(CLAUDE, { messages: [user([{ type: 'file', file: { file_id: 'file-1' } }])] }))?.message).toBe('messages[0].content[0]: only inline file_data is supported by vertex targets (not file_id)');
  });
});
