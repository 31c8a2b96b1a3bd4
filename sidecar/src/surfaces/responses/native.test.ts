import { describe, expect, it } from '@jest/globals';
import { Secret } from '../../secret.ts';
import { parseSSE } from '../../../../test/fakes/sse.ts';
import { openaiOverText } from '../../../../test/support/openai-over-text.ts';
import type { ProviderTarget, StreamStep } from '../../providers/types.ts';
import { azureVersionHasResponses, DEFAULT_AZURE_RESPONSES_API_VERSION, responsesNative, sequenceNumberOf, storedResponseRequest } from './native.ts';

const KEY = 'sk-test-SECRETKEY0123456789abcdef';
const openai: ProviderTarget = { provider: 'openai', model: 'gpt-4.1-mini', baseURL: 'https://api.openai.com/v1/', apiKey: new Secret(KEY) };
const azure: ProviderTarget = { provider: 'azure-openai', model: 'my-dep', baseURL: 'https://x.openai.azure.com', apiVersion: '2024-10-21', apiKey: new Secret('azure-key-0123456789') };
const compat: ProviderTarget = { provider: 'openai-compatible', model: 'qwen', baseURL: 'http://127.0.0.1:8000/v1' };

describe('storedResponseRequest', () => {
  it('GET, DELETE, input_items and cancel at the paths and with the auth of POST /v1/responses; the query passed on', () => {
    expect(storedResponseRequest('openai', openai, 'resp_1', 'get')).toEqual({ method: 'GET', url: 'https://api.openai.com/v1/responses/resp_1', headers: { accept: 'application/json', authorization: `Bearer ${KEY}` }, body: '' });
    const stream = storedResponseRequest('openai', openai, 'resp_1', 'get', 'stream=true&starting_after=3');
    expect(stream.url).toBe('https://api.openai.com/v1/responses/resp_1?stream=true&starting_after=3');
    expect(stream.headers.accept).toBe('text/event-stream');
    expect(storedResponseRequest('openai', openai, 'resp_1', 'delete').method).toBe('DELETE');
    expect(storedResponseRequest('openai', openai, 'resp_1', 'cancel')).toMatchObject({ method: 'POST', url: 'https://api.openai.com/v1/responses/resp_1/cancel' });
    expect(storedResponseRequest('openai-compatible', compat, 'r/x', 'input_items', 'limit=2')).toEqual({ method: 'GET', url: 'http://127.0.0.1:8000/v1/responses/r%2Fx/input_items?limit=2', headers: { accept: 'application/json' }, body: '' });
  });

  it("Azure: the v1 path, or the preview path with its api-version before the client's query; the api-key header", () => {
    const v1 = storedResponseRequest('azure-openai', { ...azure, baseURL: 'https://x.openai.azure.com/openai/v1' }, 'resp_1', 'get', 'include[]=x');
    expect(v1.url).toBe('https://x.openai.azure.com/openai/v1/responses/resp_1?include[]=x');
    expect(v1.headers).toEqual({ accept: 'application/json', 'api-key': 'azure-key-0123456789' });
    expect(storedResponseRequest('azure-openai', azure, 'resp_1', 'cancel').url).toBe(`https://x.openai.azure.com/openai/responses/resp_1/cancel?api-version=${DEFAULT_AZURE_RESPONSES_API_VERSION}`);
    expect(storedResponseRequest('azure-openai', azure, 'resp_1', 'get', 'stream=true').url).toBe(`https://x.openai.azure.com/openai/responses/resp_1?api-version=${DEFAULT_AZURE_RESPONSES_API_VERSION}&stream=true`);
  });
});

describe('responsesNative buildRequest', () => {
  it('posts to <baseURL>/responses with the bearer key and the target model, store and previous_response_id as sent', () => {
    const body = { model: 'route', input: 'hi', store: false, previous_response_id: 'resp_1', stream: true, stream_options: { include_obfuscation: false } };
    const req = responsesNative('openai').buildRequest('responses', body, openai, { stream: true });
    expect(req.url).toBe('https://api.openai.com/v1/responses');
    expect(req.headers).toEqual({ 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${KEY}` });
    expect(req.body).toBe('{"model":"gpt-4.1-mini","input":"hi","store":false,"previous_response_id":"resp_1","stream":true,"stream_options":{"include_obfuscation":false}}');
    expect(body.model).toBe('route');
    const plain = responsesNative('openai-compatible').buildRequest('responses', { model: 'r', input: 'x', stream: false, stream_options: {} }, compat, { stream: false });
    expect(plain.url).toBe('http://127.0.0.1:8000/v1/responses');
    expect(plain.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json' });
    expect(JSON.parse(plain.body)).toEqual({ model: 'qwen', input: 'x', stream: false });
  });

  it("uses Azure's v1 path, or the preview path with an api-version that has the Responses API; the deployment is the body's model", () => {
    const a = responsesNative('azure-openai');
    const v1 = a.buildRequest('responses', { model: 'r', input: 'x' }, { ...azure, baseURL: 'https://x.openai.azure.com/openai/v1/' }, { stream: false });
    expect(v1.url).toBe('https://x.openai.azure.com/openai/v1/responses');
    expect(v1.headers['api-key']).toBe('azure-key-0123456789');
    expect(v1.headers.authorization).toBeUndefined();
    expect(JSON.parse(v1.body).model).toBe('my-dep');
    expect(a.buildRequest('responses', { model: 'r', input: 'x' }, azure, { stream: false }).url).toBe(`https://x.openai.azure.com/openai/responses?api-version=${DEFAULT_AZURE_RESPONSES_API_VERSION}`);
    expect(a.buildRequest('responses', { model: 'r', input: 'x' }, { ...azure, baseURL: 'https://x.openai.azure.com/openai', apiVersion: '2025-03-01-preview' }, { stream: false }).url).toBe(
      'https://x.openai.azure.com/openai/responses?api-version=2025-03-01-preview',
    );
    expect(azureVersionHasResponses('2025-04-01-preview')).toBe(true);
    expect(azureVersionHasResponses('2024-12-01-preview')).toBe(false);
    expect(azureVersionHasResponses('latest')).toBe(false);
  });

  it('refuses to build other endpoints', () => {
    expect(() => responsesNative('openai').buildRequest('chat', { model: 'x' }, openai, { stream: false })).toThrow(/does not build 'chat'/);
  });
});

describe('responsesNative parseResponse and parseError', () => {
  const a = responsesNative('openai');
  it('passes the body on as received, with usage', () => {
    const text = '{"id":"resp_1","object":"response","status":"completed","error":null,"output":[],"usage":{"input_tokens":9,"output_tokens":4,"total_tokens":13}}';
    expect(a.parseResponse('responses', 200, text, openai)).toEqual({ ok: true, body: text, usage: { prompt: 9, completion: 4 } });
  });

  it('turns a failed response into a ProviderError classed by its code', () => {
    const failed = (code: string): StreamStep['error'] => {
      const r = a.parseResponse('responses', 200, JSON.stringify({ id: 'resp_1', object: 'response', status: 'failed', error: { code, message: 'went wrong' } }), openai);
      return r.ok ? undefined : r.error;
    };
    expect(failed('server_error')).toMatchObject({ errorClass: 'server-error', status: 500, message: 'went wrong', code: 'server_error' });
    expect(failed('rate_limit_exceeded')).toMatchObject({ errorClass: 'rate-limit', status: 429 });
    expect(a.parseResponse('responses', 200, 'not json', openai)).toMatchObject({ ok: false, error: { status: 502, code: 'invalid_provider_response' } });
  });

  it("reads OpenAI's error shape, a stored response not found is the request's, not the target's", () => {
    const e = a.parseError(400, JSON.stringify({ error: { message: "Previous response with id 'resp_x' not found.", type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' } }));
    expect(e).toMatchObject({ errorClass: 'bad-request', status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
  });
});

function ev(type: string, seq: number, fields: Record<string, unknown> = {}): { event: string; data: string } {
  return { event: type, data: JSON.stringify({ type, sequence_number: seq, ...fields }) };
}
const response = (status: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ id: 'resp_up', object: 'response', created_at: 1, status, error: null, output: [], model: 'gpt-4.1-mini', ...extra });

describe('responsesNative stream decoder', () => {
  it('passes every event on as a frame, data unchanged, commits at the first text delta, finishes with usage and keeps the final response', () => {
    const d = responsesNative('openai').createStreamDecoder(openai, {});
    expect(d.framed).toMatchObject({ end: '' });
    const created = ev('response.created', 0, { response: response('in_progress') });
    expect(d.push(created)).toEqual({ out: [`event: response.created\ndata: ${created.data}\n\n`], content: false, finished: false });
    expect(d.push(ev('response.in_progress', 1, { response: response('in_progress') })).content).toBe(false);
    expect(d.push(ev('response.output_item.added', 2, { output_index: 0, item: { id: 'msg_1', type: 'message', status: 'in_progress', content: [], role: 'assistant' } })).content).toBe(false);
    const delta = ev('response.output_text.delta', 3, { item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hi', logprobs: [] });
    expect(d.push(delta)).toEqual({ out: [`event: response.output_text.delta\ndata: ${delta.data}\n\n`], content: true, finished: false });
    // After the commit point, a frame goes by unread: even data that is not JSON.
    expect(d.push({ event: 'response.output_text.delta', data: '{"not json' })).toEqual({ out: ['event: response.output_text.delta\ndata: {"not json\n\n'], content: false, finished: false });
    const final = response('completed', { usage: { input_tokens: 7, output_tokens: 2, total_tokens: 9 } });
    expect(d.push(ev('response.completed', 5, { response: final }))).toMatchObject({ content: false, finished: true, usage: { prompt: 7, completion: 2 } });
    expect(d.completed).toEqual(final);
  });

  it.each([
    ['response.refusal.delta', { delta: 'No' }],
    ['response.function_call_arguments.delta', { delta: '{' }],
    ['response.reasoning_summary_text.delta', { delta: 'Hm' }],
    ['response.output_item.added', { output_index: 0, item: { id: 'fc_1', type: 'function_call', call_id: 'c', name: 'f', arguments: '' } }],
  ])('commits at %s', (type, fields) => {
    const d = responsesNative('openai').createStreamDecoder(openai, {});
    expect(d.push(ev(type, 0, fields)).content).toBe(true);
  });

  it('turns error and response.failed before the commit point into a step error, and finishes on response.incomplete', () => {
    const e1 = responsesNative('openai').createStreamDecoder(openai, {}).push(ev('error', 1, { code: 'rate_limit_exceeded', message: 'slow down', param: null }));
    expect(e1).toMatchObject({ out: [], error: { errorClass: 'rate-limit', status: 429, message: 'slow down' } });
    const nested = responsesNative('openai').createStreamDecoder(openai, {}).push(ev('error', 1, { error: { type: 'invalid_request_error', code: 'context_length_exceeded', message: 'too long', param: 'input' } }));
    expect(nested.error).toMatchObject({ errorClass: 'context-window', type: 'invalid_request_error' });
    const failed = responsesNative('openai').createStreamDecoder(openai, {}).push(ev('response.failed', 2, { response: response('failed', { error: { code: 'server_error', message: 'boom' } }) }));
    expect(failed.error).toMatchObject({ errorClass: 'server-error', status: 500, message: 'boom' });
    const d = responsesNative('openai').createStreamDecoder(openai, {});
    expect(d.push(ev('response.incomplete', 0, { response: response('incomplete', { incomplete_details: { reason: 'max_output_tokens' } }) }))).toMatchObject({ finished: true });
    expect(d.completed).toMatchObject({ status: 'incomplete' });
    expect(responsesNative('openai').createStreamDecoder(openai, {}).push({ event: 'response.created', data: 'garbage' }).error).toMatchObject({ code: 'invalid_provider_response' });
  });

  it("ends a broken stream with error + response.failed, continuing the upstream's sequence numbers", async () => {
    const d = responsesNative('openai').createStreamDecoder(openai, {});
    let text = '';
    for (const e of [
      ev('response.created', 0, { response: response('in_progress') }),
      ev('response.output_item.added', 1, { output_index: 0, item: { id: 'msg_1', type: 'message', status: 'in_progress', content: [], role: 'assistant' } }),
      ev('response.content_part.added', 2, { item_id: 'msg_1', output_index: 0, content_index: 0, part: { type: 'output_text', annotations: [], text: '' } }),
      ev('response.output_text.delta', 3, { item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hi', logprobs: [] }),
    ]) {
      text += d.push(e).out.join('');
    }
    const broken = d.push(ev('error', 4, { code: 'server_error', message: 'upstream broke', param: null }));
    expect(broken.error).toMatchObject({ message: 'upstream broke' });
    text += d.framed.error({ message: 'upstream broke', type: 'server_error', code: 'server_error', param: null, errorClass: 'server-error', status: 500 });
    const events = parseSSE(text).map((x) => JSON.parse(x.data));
    expect(events.map((x) => [x.type, x.sequence_number])).toEqual([
      ['response.created', 0],
      ['response.output_item.added', 1],
      ['response.content_part.added', 2],
      ['response.output_text.delta', 3],
      ['error', 4],
      ['response.failed', 5],
    ]);
    expect(events[5].response).toMatchObject({ id: 'resp_up', status: 'failed', error: { code: 'server_error', message: 'upstream broke' } });
    await expect(openaiOverText(text).responses.stream({ model: 'm', input: 'x' }).finalResponse()).rejects.toMatchObject({ type: 'error', message: 'upstream broke' });
  });

  it('reads a sequence_number without parsing', () => {
    expect(sequenceNumberOf('{"type":"x","sequence_number":42,"delta":"a"}')).toBe(42);
    expect(sequenceNumberOf('{"type":"x","delta":"\\"sequence_number\\":7"}')).toBeUndefined();
  });
});
