/**
 * The fake's Responses API, read by the official openai SDK: create (whole
 * and streamed), responses.stream() with finalResponse(), retrieve, delete,
 * inputItems, cancel, previous_response_id, the real API's validation, and
 * the fault behaviours applied to Responses.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import OpenAI, { APIError, AzureOpenAI } from 'openai';
import { startFakeProvider, type FakeProvider } from './fake-provider.ts';
import { parseSSE } from './sse.ts';

const WEATHER = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

let fake: FakeProvider;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeProvider({ flavor: 'openai', name: 'primary', expectKey: 'sk-fake-key' });
  client = new OpenAI({ apiKey: 'sk-fake-key', baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('POST /v1/responses', () => {
  test('a whole response: text, usage, echoed fields; the SDK adds output_text', async () => {
    const res = await client.responses.create({ model: 'gpt-4.1-mini', instructions: 'Be brief.', input: 'Say hello', temperature: 0.5 });
    expect(res).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4.1-mini', instructions: 'Be brief.', temperature: 0.5, error: null, incomplete_details: null });
    expect(res.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(res.output_text).toBe('Hello from primary');
    expect(res.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello from primary', annotations: [] }] });
    expect(res.usage).toMatchObject({ input_tokens: 4, output_tokens: 4, total_tokens: 8 });
    expect(fake.requests[0]).toMatchObject({ endpoint: 'responses', dialect: 'openai', stream: false, outcome: 'ok' });
  });

  test('a stream carries every event in order, sequence_number from 0, each named as its type', async () => {
    const res = await fetch(`${fake.url}/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-fake-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', input: 'hi', stream: true, reasoning: { effort: 'low', summary: 'auto' }, tools: [WEATHER] }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSSE(await res.text());
    const data = events.map((e) => JSON.parse(e.data));
    expect(events.map((e) => e.event)).toEqual(data.map((d) => d.type));
    expect(data.map((d) => d.sequence_number)).toEqual(data.map((_, i) => i));
    expect(data.map((d) => d.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });

  test('responses.stream() and finalResponse(), with a tool call after text', async () => {
    const stream = client.responses.stream({ model: 'gpt-4.1-mini', input: 'Weather in Paris?', tools: [WEATHER] });
    fake.setBehaviour({ kind: 'ok', text: 'Checking.', toolCall: true, chunks: 3 });
    const deltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('Checking.');
    const call = final.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' });
    expect(deltas.join('')).toBe('{"city":"Paris"}');
  });

  test('iterating create({stream: true}) ends with response.completed carrying usage', async () => {
    const types: string[] = [];
    let usage: unknown;
    for await (const e of await client.responses.create({ model: 'm', input: 'hi', stream: true })) {
      types.push(e.type);
      if (e.type === 'response.completed') usage = e.response.usage;
    }
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(usage).toMatchObject({ input_tokens: 1, output_tokens: 4 });
  });

  test('finishReason length makes an incomplete response', async () => {
    fake.setBehaviour({ kind: 'ok', finishReason: 'length' });
    const res = await client.responses.create({ model: 'm', input: 'hi', max_output_tokens: 16 });
    expect(res).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, max_output_tokens: 16 });
  });
});

describe('stored responses', () => {
  test('retrieve, inputItems, cancel (not background) and delete', async () => {
    const res = await client.responses.create({ model: 'm', input: [{ role: 'user', content: 'first' }, { role: 'user', content: [{ type: 'input_text', text: 'second' }] }] });
    const got = await client.responses.retrieve(res.id);
    expect(got.id).toBe(res.id);
    expect(got.output_text).toBe('Hello from primary');
    const items = await client.responses.inputItems.list(res.id);
    expect(items.data.map((i) => (i as { content: { text: string }[] }).content[0]!.text)).toEqual(['second', 'first']);
    expect(items.data[0]).toMatchObject({ type: 'message', role: 'user', status: 'completed' });
    const asc = await client.responses.inputItems.list(res.id, { order: 'asc', limit: 1 });
    expect(asc.data.map((i) => (i as { content: { text: string }[] }).content[0]!.text)).toEqual(['first']);
    expect(asc.has_more).toBe(true);
    await expect(client.responses.cancel(res.id)).rejects.toMatchObject({ status: 400 });
    await client.responses.delete(res.id);
    await expect(client.responses.retrieve(res.id)).rejects.toMatchObject({ status: 404, message: expect.stringContaining(`Response with id '${res.id}' not found.`) });
  });

  test('store: false keeps nothing; previous_response_id resolves only what the fake served', async () => {
    const unstored = await client.responses.create({ model: 'm', input: 'hi', store: false });
    await expect(client.responses.retrieve(unstored.id)).rejects.toMatchObject({ status: 404 });
    const err = (await client.responses.create({ model: 'm', input: 'again', previous_response_id: unstored.id }).catch((e: unknown) => e)) as APIError;
    expect(err).toBeInstanceOf(APIError);
    expect(err).toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
    expect(err.message).toContain(`Previous response with id '${unstored.id}' not found.`);
    const first = await client.responses.create({ model: 'm', input: 'hi' });
    const second = await client.responses.create({ model: 'm', input: 'again', previous_response_id: first.id });
    expect(second.previous_response_id).toBe(first.id);
  });

  test('a function_call_output must answer a function_call of the input or of the previous response', async () => {
    fake.setBehaviour({ kind: 'ok', toolCall: true });
    const first = await client.responses.create({ model: 'm', input: 'Weather in Paris?', tools: [WEATHER] });
    const call = first.output.find((o) => o.type === 'function_call') as { call_id: string };
    fake.setBehaviour({ kind: 'ok' });
    const ok = await client.responses.create({ model: 'm', previous_response_id: first.id, input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny' }], tools: [WEATHER] });
    expect(ok.status).toBe('completed');
    const inline = await client.responses.create({
      model: 'm',
      input: [
        { type: 'function_call', call_id: 'call_x', name: 'get_weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_x', output: 'sunny' },
      ],
    });
    expect(inline.status).toBe('completed');
    await expect(client.responses.create({ model: 'm', input: [{ type: 'function_call_output', call_id: 'call_nope', output: 'x' }] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('No tool call found for function call output with call_id call_nope.'),
    });
  });
});

describe('background responses', () => {
  test('POST answers at once, queued; each GET moves it one step: in_progress, then completed with the output', async () => {
    const res = await client.responses.create({ model: 'm', input: 'Say hello', background: true });
    expect(res).toMatchObject({ status: 'queued', background: true, output: [] });
    expect(fake.responseStatus(res.id)).toBe('queued');
    expect(await client.responses.retrieve(res.id)).toMatchObject({ status: 'in_progress', background: true });
    const done = await client.responses.retrieve(res.id);
    expect(done).toMatchObject({ status: 'completed', background: true });
    expect(done.output_text).toBe('Hello from primary');
    expect((await client.responses.retrieve(res.id)).status).toBe('completed');
  });

  test('manual progress: GET sees the state until advanceBackground moves it', async () => {
    fake.setBackgroundProgress('manual');
    const res = await client.responses.create({ model: 'm', input: 'x', background: true });
    expect((await client.responses.retrieve(res.id)).status).toBe('queued');
    fake.advanceBackground(res.id);
    expect((await client.responses.retrieve(res.id)).status).toBe('in_progress');
    fake.advanceBackground(res.id, 'completed');
    expect((await client.responses.retrieve(res.id)).status).toBe('completed');
    fake.reset();
    const again = await client.responses.create({ model: 'm', input: 'x', background: true });
    expect((await client.responses.retrieve(again.id)).status).toBe('in_progress');
  });

  test('cancel: a queued or in_progress one is cancelled; a finished one is a 400; delete removes it', async () => {
    fake.setBackgroundProgress('manual');
    const queued = await client.responses.create({ model: 'm', input: 'x', background: true });
    expect(await client.responses.cancel(queued.id)).toMatchObject({ id: queued.id, status: 'cancelled', background: true });
    expect((await client.responses.retrieve(queued.id)).status).toBe('cancelled');
    await expect(client.responses.cancel(queued.id)).rejects.toMatchObject({ status: 400 });
    const running = await client.responses.create({ model: 'm', input: 'x', background: true });
    fake.advanceBackground(running.id);
    expect((await client.responses.cancel(running.id)).status).toBe('cancelled');
    const finished = await client.responses.create({ model: 'm', input: 'x', background: true });
    fake.advanceBackground(finished.id, 'completed');
    const err = await client.responses.cancel(finished.id).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, message: expect.stringMatching(/Cannot cancel a completed response/) });
    await client.responses.delete(finished.id);
    expect(fake.hasResponse(finished.id)).toBe(false);
    await expect(client.responses.retrieve(finished.id)).rejects.toMatchObject({ status: 404 });
  });

  test('GET ?stream=true resumes it as the whole event stream, marked background, and completes it', async () => {
    const res = await client.responses.create({ model: 'm', input: 'x', background: true });
    const r = await fetch(`${fake.url}/responses/${res.id}?stream=true`, { headers: { authorization: 'Bearer sk-fake-key' } });
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = parseSSE(await r.text()).map((e) => JSON.parse(e.data));
    expect(data.at(-1)).toMatchObject({ type: 'response.completed', response: { id: res.id, background: true, status: 'completed' } });
    expect(fake.responseStatus(res.id)).toBe('completed');
  });
});

describe('validation as the real API does it', () => {
  test.each([
    [{ input: 'hi' }, "Missing required parameter: 'model'.", 'model'],
    [{ model: 'm', input: { role: 'user' } }, "Invalid type for 'input'", 'input'],
    [{ model: 'm', input: [{ role: 'robot', content: 'x' }] }, "Invalid value: 'robot'.", 'input[0].role'],
    [{ model: 'm', input: [{ type: 'bogus' }] }, "Invalid value: 'bogus'.", 'input[0].type'],
    [{ model: 'm', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, "Missing required parameter: 'input[0].call_id'.", 'input[0].call_id'],
    [{ model: 'm', input: 'x', tools: [{ type: 'function', function: { name: 'f' } }] }, "Missing required parameter: 'tools[0].name'.", 'tools[0].name'],
  ])('%j is refused', async (body, message, param) => {
    const res = await fetch(`${fake.url}/responses`, { method: 'POST', headers: { authorization: 'Bearer sk-fake-key', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    const e = (await res.json()) as { error: { message: string; type: string; param: string } };
    expect(e.error.message).toContain(message);
    expect(e.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(fake.requests.at(-1)?.outcome).toBe('invalid');
  });

  test('a wrong key gets the 401', async () => {
    const bad = new OpenAI({ apiKey: 'sk-wrong-key-000000', baseURL: fake.url, maxRetries: 0 });
    await expect(bad.responses.create({ model: 'm', input: 'x' })).rejects.toMatchObject({ status: 401 });
  });
});

describe('fault behaviours on Responses', () => {
  test('status and rate-limit answer with the OpenAI error body', async () => {
    fake.script({ kind: 'status', status: 503 }, { kind: 'rate-limit', retryAfter: 2 });
    await expect(client.responses.create({ model: 'm', input: 'x' })).rejects.toMatchObject({ status: 503 });
    await expect(client.responses.create({ model: 'm', input: 'x' })).rejects.toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
  });

  test('stream-error: after K deltas an error event and response.failed; the SDK stream rejects', async () => {
    fake.script({ kind: 'stream-error', afterChunks: 2, message: 'upstream overloaded', code: 'server_error' });
    const stream = client.responses.stream({ model: 'm', input: 'x' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    await expect(stream.finalResponse()).rejects.toMatchObject({ type: 'error', message: 'upstream overloaded' });
    expect(deltas).toHaveLength(2);
    fake.script({ kind: 'stream-error', afterChunks: 1 });
    const res = await fetch(`${fake.url}/responses`, { method: 'POST', headers: { authorization: 'Bearer sk-fake-key' }, body: JSON.stringify({ model: 'm', input: 'x', stream: true }) });
    const data = parseSSE(await res.text()).map((e) => JSON.parse(e.data));
    expect(data.map((d) => d.sequence_number)).toEqual(data.map((_, i) => i));
    expect(data.slice(-2).map((d) => d.type)).toEqual(['error', 'response.failed']);
    expect(data.at(-1).response).toMatchObject({ status: 'failed', error: { code: 'server_error' } });
    // A failed response is not stored.
    await expect(client.responses.retrieve(data[0].response.id)).rejects.toMatchObject({ status: 404 });
  });

  test('cut after K chunks ends the stream without response.completed', async () => {
    fake.script({ kind: 'cut', afterChunks: 2 });
    const stream = client.responses.stream({ model: 'm', input: 'x' });
    await expect(stream.finalResponse()).rejects.toBeDefined();
    expect(fake.requests[0]).toMatchObject({ stream: true, outcome: 'cut' });
  });

  test('stall stops sending and keeps the socket open', async () => {
    fake.script({ kind: 'stall', afterChunks: 1 });
    const ctrl = new AbortController();
    const stream = client.responses.stream({ model: 'm', input: 'x' }, { signal: ctrl.signal });
    const first = new Promise<void>((resolve) => stream.on('response.output_text.delta', () => resolve()));
    await first;
    ctrl.abort();
    await expect(stream.finalResponse()).rejects.toBeDefined();
  });
});

describe('Azure paths', () => {
  test('the v1 path and the preview path with api-version; the deployment is the body model', async () => {
    const azureFake = await startFakeProvider({ flavor: 'openai', expectKey: 'azure-key-123456', knownModels: ['my-dep'] });
    try {
      const v1 = new OpenAI({ apiKey: 'azure-key-123456', baseURL: `${azureFake.origin}/openai/v1`, maxRetries: 0 });
      expect((await v1.responses.create({ model: 'my-dep', input: 'x' })).status).toBe('completed');
      const preview = new AzureOpenAI({ apiKey: 'azure-key-123456', endpoint: azureFake.origin, apiVersion: '2025-04-01-preview', maxRetries: 0 });
      expect((await preview.responses.create({ model: 'my-dep', input: 'x' })).status).toBe('completed');
      expect(azureFake.requests.map((r) => [r.pathname, r.dialect, r.endpoint])).toEqual([
        ['/openai/v1/responses', 'azure', 'responses'],
        ['/openai/responses', 'azure', 'responses'],
      ]);
      await expect(preview.responses.create({ model: 'other-dep', input: 'x' })).rejects.toMatchObject({ status: 404 });
    } finally {
      await azureFake.close();
    }
  });
});
