/**
 * Issue 11, part A: the Responses codecs against the fake provider over real
 * HTTP, read back with the openai SDK. The native codec's requests must pass
 * the fake's checks (paths, keys, api-version, validation) and its decoder
 * must pass the stream on so that the SDK builds the same response; the
 * translation's Chat body must be served by the fake's Chat Completions and
 * its encoder's events must make a whole response for the SDK.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { openaiOverText } from '../support/openai-over-text.ts';
import { SseParser } from '../../sidecar/src/sse.ts';
import { Secret } from '../../sidecar/src/secret.ts';
import { openaiAdapter } from '../../sidecar/src/providers/openai.ts';
import type { ProviderTarget, StreamDecoder, StreamStep, UpstreamRequest } from '../../sidecar/src/providers/types.ts';
import { responsesNative } from '../../sidecar/src/surfaces/responses/native.ts';
import { responsesTranslation } from '../../sidecar/src/surfaces/responses/translation.ts';
import { fixedContext } from '../../sidecar/src/testing/translation-context.ts';

let fake: FakeProvider;
let target: ProviderTarget;

beforeAll(async () => {
  fake = await startFakeProvider({ flavor: 'openai', name: 'primary', expectKey: 'sk-fake-key', knownModels: ['gpt-4.1-mini', 'my-dep'] });
  target = { provider: 'openai', model: 'gpt-4.1-mini', baseURL: fake.url, apiKey: new Secret('sk-fake-key') };
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

async function send(req: UpstreamRequest): Promise<Response> {
  return fetch(req.url, { method: 'POST', headers: req.headers, body: req.body });
}

/** Every step the decoder makes of the upstream's stream. */
async function decode(res: Response, decoder: StreamDecoder): Promise<StreamStep[]> {
  const parser = new SseParser();
  const steps: StreamStep[] = [];
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) for (const ev of parser.push(chunk)) steps.push(decoder.push(ev));
  return steps;
}

const WEATHER = { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: true };

describe('native codec against the fake', () => {
  test('a stream passes through: one commit point, a clean finish with usage, the final response kept, the SDK reads the same text', async () => {
    const codec = responsesNative('openai');
    const body = { model: 'route', input: 'Hi', stream: true };
    const res = await send(codec.buildRequest('responses', body, target, { stream: true }));
    expect(res.status).toBe(200);
    const decoder = codec.createStreamDecoder(target, body);
    const steps = await decode(res, decoder);
    expect(steps.filter((s) => s.content)).toHaveLength(1);
    expect(steps.at(-1)).toMatchObject({ finished: true, usage: { prompt: 1, completion: 4 } });
    expect(steps.some((s) => s.error)).toBe(false);
    expect(decoder.completed).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4.1-mini' });
    const final = await openaiOverText(steps.flatMap((s) => s.out).join('') + decoder.framed.end).responses.stream({ model: 'route', input: 'Hi' }).finalResponse();
    expect(final.output_text).toBe('Hello from primary');
    expect(fake.requests[0]).toMatchObject({ pathname: '/v1/responses', outcome: 'ok' });
  });

  test('a whole response comes back as received; previous_response_id goes as sent and the fake resolves it', async () => {
    const codec = responsesNative('openai');
    const first = await send(codec.buildRequest('responses', { model: 'route', input: 'Hi' }, target, { stream: false }));
    const text = await first.text();
    const parsed = codec.parseResponse('responses', 200, text, target);
    expect(parsed).toMatchObject({ ok: true, body: text, usage: { prompt: 1, completion: 4 } });
    const id = (JSON.parse(text) as { id: string }).id;
    const second = await send(codec.buildRequest('responses', { model: 'route', input: 'More', previous_response_id: id }, target, { stream: false }));
    expect(second.status).toBe(200);
    const missing = await send(codec.buildRequest('responses', { model: 'route', input: 'More', previous_response_id: 'resp_gone' }, target, { stream: false }));
    expect(codec.parseError(missing.status, await missing.text())).toMatchObject({ status: 400, errorClass: 'bad-request', code: 'previous_response_not_found' });
  });

  test("a stream error before any content is a step error; Azure's preview path with the default api-version", async () => {
    fake.script({ kind: 'stream-error', afterChunks: 0, message: 'overloaded' });
    const codec = responsesNative('openai');
    const steps = await decode(await send(codec.buildRequest('responses', { model: 'route', input: 'Hi', stream: true }, target, { stream: true })), codec.createStreamDecoder(target, {}));
    const failed = steps.find((s) => s.error);
    expect(failed?.error).toMatchObject({ errorClass: 'server-error', message: 'overloaded' });
    expect(steps.slice(0, steps.indexOf(failed!)).some((s) => s.content)).toBe(false);

    const azure: ProviderTarget = { provider: 'azure-openai', model: 'my-dep', baseURL: fake.origin, apiKey: new Secret('sk-fake-key') };
    const az = responsesNative('azure-openai');
    const res = await send(az.buildRequest('responses', { model: 'route', input: 'Hi' }, azure, { stream: false }));
    expect(res.status).toBe(200);
    expect(fake.requests.at(-1)).toMatchObject({ pathname: '/openai/responses', dialect: 'azure', query: { 'api-version': '2025-04-01-preview' } });
  });
});

describe('translation through Chat against the fake', () => {
  const request = {
    model: 'route',
    instructions: 'Be brief.',
    input: [
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_a', output: 'sunny' },
      { role: 'user', content: 'And Rome?' },
    ],
    tools: [WEATHER],
  };

  test("a stream: the fake's chat chunks through the chat decoder and the encoder make a whole response with a tool call", async () => {
    fake.setBehaviour({ kind: 'ok', text: 'Checking.', toolCall: true, chunks: 3 });
    const body = { ...request, stream: true };
    const chat = responsesTranslation.toChat(body, fixedContext());
    const res = await send(openaiAdapter.buildRequest('chat', chat, target, { stream: true }));
    expect(res.status).toBe(200);
    const steps = await decode(res, openaiAdapter.createStreamDecoder(target, chat));
    const enc = responsesTranslation.streamEncoder(body, fixedContext());
    let text = '';
    for (const s of steps) for (const c of s.out) text += enc.chunk(JSON.parse(c)).join('');
    text += enc.finish(steps.findLast((s) => s.usage)?.usage).join('');
    const final = await openaiOverText(text).responses.stream({ model: 'route', input: 'x' }).finalResponse();
    expect(final.output_text).toBe('Checking.');
    expect(final.output.find((o) => o.type === 'function_call')).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(final.usage?.input_tokens).toBeGreaterThan(0);
    expect(fake.requests[0]!.body.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'user']);
  });

  test('a whole answer: fromChat of the fake chat.completion', async () => {
    const chat = responsesTranslation.toChat(request, fixedContext());
    const res = await send(openaiAdapter.buildRequest('chat', chat, target, { stream: false }));
    const parsed = openaiAdapter.parseResponse('chat', res.status, await res.text(), target);
    if (!parsed.ok) throw new Error(parsed.error.message);
    const out = await openaiOverText(responsesTranslation.fromChat(JSON.parse(parsed.body), request, fixedContext()), 'application/json').responses.create({ model: 'route', input: 'x' });
    expect(out.output_text).toBe('Hello from primary');
    expect(out.status).toBe('completed');
  });
});
