/**
 * The fakes themselves: each behaviour does what it says, on the wire, as
 * the official OpenAI SDK, undici and a plain SSE parser see it.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Agent, request, type Dispatcher } from 'undici';
import OpenAI, { APIError, AzureOpenAI } from 'openai';
import { startFakeProvider, type Behaviour, type FakeProvider } from './fake-provider.ts';
import { refusedURL } from './refused-port.ts';
import { parseSSE, sseJSON } from './sse.ts';
import { hintFromError } from '../../sidecar/src/classify.ts';

// ---------------------------------------------------------------- helpers

const agents: Agent[] = [];
function agent(opts: Agent.Options = {}): Agent {
  const a = new Agent({ keepAliveTimeout: 1000, ...opts });
  agents.push(a);
  return a;
}
afterAll(async () => {
  await Promise.all(agents.map((a) => a.destroy()));
});

const MESSAGES = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello to the whole world' },
];
const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
  },
};

function chat(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES, ...extra });
}
function claude(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 256,
    system: 'You are terse.',
    messages: [{ role: 'user', content: 'Say hello to the whole world' }],
    ...extra,
  });
}

interface Posted {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Body pieces in arrival order. */
  pieces: Buffer[];
}

async function post(url: string, body: string, opts: { headers?: Record<string, string>; dispatcher?: Dispatcher } = {}): Promise<Posted> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body,
    dispatcher: opts.dispatcher ?? agent(),
  });
  const pieces: Buffer[] = [];
  for await (const chunk of res.body) pieces.push(chunk as Buffer);
  return { status: res.statusCode, headers: res.headers, text: Buffer.concat(pieces).toString('utf8'), pieces };
}

/** Posts and reads the body until it fails; returns what arrived and the error. */
async function postUntilError(
  url: string,
  body: string,
  opts: { headers?: Record<string, string>; dispatcher?: Dispatcher } = {},
): Promise<{ status?: number; text: string; error: (Error & { code?: string }) | undefined }> {
  let status: number | undefined;
  const pieces: Buffer[] = [];
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body,
      dispatcher: opts.dispatcher ?? agent(),
    });
    status = res.statusCode;
    for await (const chunk of res.body) pieces.push(chunk as Buffer);
  } catch (err) {
    return { status, text: Buffer.concat(pieces).toString('utf8'), error: err as Error & { code?: string } };
  }
  return { status, text: Buffer.concat(pieces).toString('utf8'), error: undefined };
}

/** The error codes along an error's cause chain. */
function codes(err: unknown): string[] {
  const out: string[] = [];
  let e: unknown = err;
  for (let i = 0; e && typeof e === 'object' && i < 5; i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') out.push(c);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

function sdk(fake: FakeProvider, apiKey = 'sk-test'): OpenAI {
  return new OpenAI({ baseURL: fake.url, apiKey, maxRetries: 0, timeout: 5000 });
}

/** Content-bearing OpenAI chunks in a raw SSE body. */
function openaiContent(text: string): string[] {
  return sseJSON(text)
    .map((e) => e.data.choices?.[0]?.delta?.content)
    .filter((c): c is string => typeof c === 'string' && c !== '');
}

// ---------------------------------------------------------------- OpenAI flavor

describe('openai flavor', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await startFakeProvider({ flavor: 'openai', name: 'primary' });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  test('url is the /v1 base on 127.0.0.1', () => {
    expect(fake.url).toBe(`http://127.0.0.1:${fake.port}/v1`);
    expect(fake.origin).toBe(`http://127.0.0.1:${fake.port}`);
  });

  test('non-stream completion through the SDK', async () => {
    const r = await sdk(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never });
    expect(r.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe('gpt-4o-mini');
    expect(Math.abs(r.created - Date.now() / 1000)).toBeLessThan(5);
    expect(r.choices[0]?.message.content).toBe('Hello from primary');
    expect(r.choices[0]?.finish_reason).toBe('stop');
    // prompt ≈ words in the messages (3 + 6), completion = chunks (default 4)
    expect(r.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  });

  test('reasoning: reasoning_content on the message, and streamed as one delta before the content', async () => {
    fake.script({ kind: 'ok', text: 'Answer', reasoning: 'Let me think.' }, { kind: 'ok', text: 'Answer', chunks: 2, reasoning: 'Let me think.' });
    const r = await post(`${fake.url}/chat/completions`, chat());
    expect(JSON.parse(r.text).choices[0].message).toMatchObject({ role: 'assistant', content: 'Answer', reasoning_content: 'Let me think.' });
    const s = await post(`${fake.url}/chat/completions`, chat({ stream: true }));
    const deltas = sseJSON(s.text).map((e) => e.data.choices?.[0]?.delta).filter((d) => d && (d.content || d.reasoning_content));
    expect(deltas).toEqual([{ reasoning_content: 'Let me think.' }, { content: 'Ans' }, { content: 'wer' }]);
  });

  test('the path without /v1 works too', async () => {
    const r = await post(`${fake.origin}/chat/completions`, chat());
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).choices[0].message.content).toBe('Hello from primary');
  });

  test('stream: role chunk, N content chunks, finish chunk, usage chunk, [DONE]', async () => {
    fake.script({ kind: 'ok', text: 'one two three four five six', chunks: 6 });
    const r = await post(`${fake.url}/chat/completions`, chat({ stream: true, stream_options: { include_usage: true } }));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = parseSSE(r.text);
    expect(events.at(-1)?.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks).toHaveLength(1 + 6 + 1 + 1);
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    for (const c of chunks) expect(c.object).toBe('chat.completion.chunk');
    expect(chunks[0].choices[0].delta).toMatchObject({ role: 'assistant', content: '' });
    const content = chunks.slice(1, 7).map((c) => c.choices[0].delta.content);
    expect(content.join('')).toBe('one two three four five six');
    expect(chunks[7].choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks[7].usage).toBeNull();
    expect(chunks[8].choices).toEqual([]);
    expect(chunks[8].usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 });
  });

  test('stream without include_usage has no usage chunk and no usage fields', async () => {
    const r = await post(`${fake.url}/chat/completions`, chat({ stream: true }));
    const chunks = sseJSON(r.text).map((e) => e.data);
    expect(chunks).toHaveLength(1 + 4 + 1);
    for (const c of chunks) expect('usage' in c).toBe(false);
  });

  test('stream through the SDK reassembles the text', async () => {
    fake.script({ kind: 'ok', chunks: 20, text: 'The quick brown fox jumps over the lazy dog and keeps running far away' });
    const s = await sdk(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never, stream: true });
    let text = '';
    let n = 0;
    for await (const c of s) {
      const d = c.choices[0]?.delta.content;
      if (d) {
        text += d;
        n++;
      }
    }
    expect(n).toBe(20);
    expect(text).toBe('The quick brown fox jumps over the lazy dog and keeps running far away');
  });

  test('tool call, non-stream', async () => {
    fake.script({ kind: 'ok', toolCall: true });
    const r = await sdk(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never, tools: [WEATHER_TOOL as never] });
    const m = r.choices[0]?.message;
    expect(r.choices[0]?.finish_reason).toBe('tool_calls');
    expect(m?.content).toBeNull();
    const call = m?.tool_calls?.[0] as { id: string; type: string; function: { name: string; arguments: string } };
    expect(call.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(call.type).toBe('function');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', days: 1 });
  });

  test('tool call, stream, explicit arguments', async () => {
    fake.script({ kind: 'ok', toolCall: { name: 'get_weather', arguments: { city: 'Oslo' } }, chunks: 3 });
    const r = await post(`${fake.url}/chat/completions`, chat({ stream: true, tools: [WEATHER_TOOL] }));
    const chunks = sseJSON(r.text).map((e) => e.data);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(calls[0].id).toMatch(/^call_/);
    const args = calls
      .slice(1)
      .map((c: { function: { arguments: string } }) => c.function.arguments)
      .join('');
    expect(JSON.parse(args)).toEqual({ city: 'Oslo' });
    expect(calls.length - 1).toBe(3);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('tool_calls');
  });

  test('toolCall without tools in the request answers with text', async () => {
    fake.script({ kind: 'ok', toolCall: true });
    const r = await sdk(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never });
    expect(r.choices[0]?.message.content).toBe('Hello from primary');
  });

  test('embeddings: SDK (base64 by default) and float', async () => {
    const e = await sdk(fake).embeddings.create({ model: 'text-embedding-3-small', input: ['hello world', 'bye'], dimensions: 8 });
    expect(e.data).toHaveLength(2);
    expect(e.data[1]?.index).toBe(1);
    expect(e.data[0]?.embedding).toHaveLength(8);
    expect(e.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    const norm = Math.sqrt((e.data[0]?.embedding ?? []).reduce((s, x) => s + x * x, 0));
    expect(norm).toBeCloseTo(1, 3);
    expect(fake.requests[0]?.body.encoding_format).toBe('base64');

    const r = await post(`${fake.url}/embeddings`, JSON.stringify({ model: 'text-embedding-3-small', input: 'hi', encoding_format: 'float' }));
    const body = JSON.parse(r.text);
    expect(body.object).toBe('list');
    expect(body.model).toBe('text-embedding-3-small');
    expect(body.data[0].object).toBe('embedding');
    expect(body.data[0].embedding).toHaveLength(1536);
  });

  test('Azure deployment paths, through the AzureOpenAI client', async () => {
    const az = await startFakeProvider({ flavor: 'openai', name: 'azure', expectKey: 'az-key-123456' });
    try {
      const client = new AzureOpenAI({ endpoint: az.origin, apiKey: 'az-key-123456', apiVersion: '2024-10-21', deployment: 'my-gpt', maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never });
      expect(r.choices[0]?.message.content).toBe('Hello from azure');
      const rec = az.requests[0];
      expect(rec?.dialect).toBe('azure');
      expect(rec?.deployment).toBe('my-gpt');
      expect(rec?.pathname).toBe('/openai/deployments/my-gpt/chat/completions');
      expect(rec?.query['api-version']).toBe('2024-10-21');
      expect(rec?.headers['api-key']).toBe('az-key-123456');

      // Azure's stream starts with a prompt_filter_results chunk with no choices.
      const s = await post(`${az.origin}/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21`, chat({ stream: true }), {
        headers: { 'api-key': 'az-key-123456' },
      });
      const chunks = sseJSON(s.text).map((e) => e.data);
      expect(chunks[0].choices).toEqual([]);
      expect(chunks[0].prompt_filter_results).toBeDefined();
      expect(openaiContent(s.text).join('')).toBe('Hello from azure');

      const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', dimensions: 4 });
      expect(emb.data[0]?.embedding).toHaveLength(4);

      const noVersion = await post(`${az.origin}/openai/deployments/my-gpt/chat/completions`, chat(), { headers: { 'api-key': 'az-key-123456' } });
      expect(noVersion.status).toBe(404);
      expect(JSON.parse(noVersion.text)).toEqual({ error: { code: '404', message: 'Resource not found' } });

      const wrong = await post(`${az.origin}/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21`, chat(), { headers: { 'api-key': 'nope' } });
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.text).error.code).toBe('401');
    } finally {
      await az.close();
    }
  });

  test('records requests: method, path, lower-case headers, parsed body, time; counters; reset', async () => {
    const before = Date.now();
    await post(`${fake.url}/chat/completions?x=1`, chat(), { headers: { 'X-Custom-Thing': 'Yes' } });
    await post(`${fake.url}/nope`, '{}');
    expect(fake.requests).toHaveLength(2);
    const [a, b] = fake.requests;
    expect(a).toMatchObject({ n: 0, method: 'POST', path: '/v1/chat/completions?x=1', pathname: '/v1/chat/completions', endpoint: 'chat', outcome: 'ok' });
    expect(a?.query).toEqual({ x: '1' });
    expect(a?.headers['x-custom-thing']).toBe('Yes');
    expect(a?.body.messages).toEqual(MESSAGES);
    expect(a?.time).toBeGreaterThanOrEqual(before);
    expect(a?.behaviour).toEqual({ kind: 'ok' });
    expect(b).toMatchObject({ n: 1, endpoint: 'unknown', outcome: 'not-found' });
    expect(fake.counts).toMatchObject({ requests: 2, byOutcome: { ok: 1, 'not-found': 1 }, byEndpoint: { chat: 1, unknown: 1 } });
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect(fake.counts.requests).toBe(0);
  });

  test('script first, then the behaviour function with its own count', async () => {
    const seen: number[] = [];
    fake.setBehaviour((req, n) => {
      seen.push(n);
      expect(req.body.model).toBe('gpt-4o-mini');
      return n % 2 === 0 ? { kind: 'status', status: 503 } : undefined;
    });
    fake.script({ kind: 'status', status: 500 }, { kind: 'ok', text: 'scripted' });
    expect(fake.pending).toBe(2);
    const statuses: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post(`${fake.url}/chat/completions`, chat());
      statuses.push(r.status);
      if (r.status === 200) texts.push(JSON.parse(r.text).choices[0].message.content);
    }
    expect(statuses).toEqual([500, 200, 503, 200, 503]);
    expect(texts).toEqual(['scripted', 'Hello from primary']);
    expect(seen).toEqual([2, 3, 4]);
    fake.reset(); // back to the options' behaviour (none: ok)
    expect((await post(`${fake.url}/chat/completions`, chat())).status).toBe(200);
  });

  test('waitForRequests', async () => {
    const waiting = fake.waitForRequests(2, 2000);
    void post(`${fake.url}/chat/completions`, chat());
    void post(`${fake.url}/chat/completions`, chat());
    const reqs = await waiting;
    expect(reqs.length).toBeGreaterThanOrEqual(2);
    await expect(fake.waitForRequests(10, 50)).rejects.toThrow(/2 of 10/);
  });

  test.each([
    [400, 'invalid_request_error', null],
    [401, 'invalid_request_error', 'invalid_api_key'],
    [403, 'request_forbidden', 'unsupported_country_region_territory'],
    [404, 'invalid_request_error', 'model_not_found'],
    [429, 'requests', 'rate_limit_exceeded'],
    [500, 'server_error', null],
    [502, 'cf_bad_gateway', 502],
    [503, 'server_error', null],
    [504, 'cf_gateway_timeout', 504],
  ])('status %i has OpenAI error body', async (status, type, code) => {
    fake.script({ kind: 'status', status });
    const r = await post(`${fake.url}/chat/completions`, chat());
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe('application/json');
    const body = JSON.parse(r.text);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error.type).toBe(type);
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
  });

  test('status overrides: message, type, code; raw body; Cloudflare HTML', async () => {
    fake.script(
      { kind: 'status', status: 418, message: 'short and stout', type: 'teapot', code: 'teapot' },
      { kind: 'status', status: 500, body: { weird: true } },
      { kind: 'status', status: 502, html: true },
    );
    const a = await post(`${fake.url}/chat/completions`, chat());
    expect(a.status).toBe(418);
    expect(JSON.parse(a.text).error).toEqual({ message: 'short and stout', type: 'teapot', code: 'teapot', param: null });
    const b = await post(`${fake.url}/chat/completions`, chat());
    expect(JSON.parse(b.text)).toEqual({ weird: true });
    const c = await post(`${fake.url}/chat/completions`, chat());
    expect(c.status).toBe(502);
    expect(c.headers['content-type']).toBe('text/html');
    expect(c.text).toContain('502 Bad Gateway');
  });

  test('429 with retry-after seconds, HTTP-date and retry-after-ms', async () => {
    const date = new Date(Date.now() + 30_000);
    fake.script({ kind: 'rate-limit', retryAfter: 7 }, { kind: 'status', status: 429, retryAfter: date }, { kind: 'rate-limit', retryAfterMs: 1500, retryAfter: 2 });
    const a = await post(`${fake.url}/chat/completions`, chat());
    expect(a.status).toBe(429);
    expect(a.headers['retry-after']).toBe('7');
    expect(JSON.parse(a.text).error.code).toBe('rate_limit_exceeded');
    const b = await post(`${fake.url}/chat/completions`, chat());
    expect(b.headers['retry-after']).toBe(date.toUTCString());
    expect(Math.abs(Date.parse(b.headers['retry-after'] as string) - date.getTime())).toBeLessThan(1000);
    const c = await post(`${fake.url}/chat/completions`, chat());
    expect(c.headers['retry-after-ms']).toBe('1500');
    expect(c.headers['retry-after']).toBe('2');
  });

  test('SDK sees rate limits as RateLimitError with the headers', async () => {
    fake.script({ kind: 'rate-limit', retryAfter: 3 });
    const err = await sdk(fake)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as APIError).headers?.get('retry-after')).toBe('3');
  });

  test('context-window and insufficient_quota are the real errors (and the sidecar reads them so)', async () => {
    fake.script({ kind: 'context-window' }, { kind: 'quota' });
    const a = await post(`${fake.url}/chat/completions`, chat());
    expect(a.status).toBe(400);
    const ea = JSON.parse(a.text).error;
    expect(ea).toMatchObject({ type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' });
    expect(ea.message).toMatch(/maximum context length is 128000 tokens/);
    expect(hintFromError(ea.code, ea.message)).toBe('context-window');
    const b = await post(`${fake.url}/chat/completions`, chat());
    expect(b.status).toBe(429);
    const eb = JSON.parse(b.text).error;
    expect(eb).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(hintFromError(eb.code, eb.message)).toBe('quota');
  });

  test('hang: the client times out waiting for headers; close() frees the socket', async () => {
    const f = await startFakeProvider({ flavor: 'openai', script: [{ kind: 'hang' }] });
    const started = Date.now();
    const r = await postUntilError(`${f.url}/chat/completions`, chat(), { dispatcher: agent({ headersTimeout: 300 }) });
    expect(codes(r.error)).toContain('UND_ERR_HEADERS_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(f.counts.requests).toBe(1);
    await f.close();
    expect(f.counts.inFlight).toBe(0);
  });

  test('hang with the SDK: a connection (timeout) error after the SDK timeout', async () => {
    fake.script({ kind: 'hang' });
    const client = new OpenAI({ baseURL: fake.url, apiKey: 'k', maxRetries: 0, timeout: 300 });
    const t0 = Date.now();
    // APIConnectionTimeoutError outside jest; jest's VM realm makes the SDK miss the AbortError and report its parent class.
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  test('reset: ECONNRESET before any header', async () => {
    fake.script({ kind: 'reset' }, { kind: 'reset', rst: false });
    const a = await postUntilError(`${fake.url}/chat/completions`, chat());
    expect(a.status).toBeUndefined();
    expect(codes(a.error)).toContain('ECONNRESET');
    const b = await postUntilError(`${fake.url}/chat/completions`, chat());
    expect(b.status).toBeUndefined();
    expect(codes(b.error)).toContain('UND_ERR_SOCKET');
  });

  test('headers-then-stall: 200 and SSE headers, then the body times out', async () => {
    fake.script({ kind: 'headers-then-stall' });
    const r = await postUntilError(`${fake.url}/chat/completions`, chat({ stream: true }), { dispatcher: agent({ bodyTimeout: 300 }) });
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(codes(r.error)).toContain('UND_ERR_BODY_TIMEOUT');
  });

  test('cut after K content chunks: the socket closes, no finish chunk, no [DONE]', async () => {
    fake.script({ kind: 'cut', afterChunks: 2, chunks: 6 });
    const r = await postUntilError(`${fake.url}/chat/completions`, chat({ stream: true }));
    expect(r.status).toBe(200);
    expect(codes(r.error)).toContain('UND_ERR_SOCKET');
    expect(openaiContent(r.text)).toHaveLength(2);
    expect(r.text).not.toContain('[DONE]');
    expect(r.text).not.toContain('"finish_reason":"stop"');
  });

  test('cut after 0 chunks: only the role chunk arrives', async () => {
    fake.script({ kind: 'cut', afterChunks: 0 });
    const r = await postUntilError(`${fake.url}/chat/completions`, chat({ stream: true }));
    expect(codes(r.error)).toContain('UND_ERR_SOCKET');
    const chunks = sseJSON(r.text);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.data.choices[0].delta.role).toBe('assistant');
  });

  test('cut through the SDK: the iterator throws after K chunks', async () => {
    fake.script({ kind: 'cut', afterChunks: 3, chunks: 8 });
    const s = await sdk(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never, stream: true });
    let n = 0;
    let error: unknown;
    try {
      for await (const c of s) if (c.choices[0]?.delta.content) n++;
    } catch (err) {
      error = err;
    }
    expect(n).toBe(3);
    expect(error).toBeDefined();
  });

  test('cut of a non-stream body: content-length mismatch', async () => {
    fake.script({ kind: 'cut', afterChunks: 0 });
    const r = await postUntilError(`${fake.url}/chat/completions`, chat());
    expect(r.status).toBe(200);
    expect(r.error).toBeDefined();
    expect(() => JSON.parse(r.text)).toThrow();
  });

  test('stall after K chunks: K chunks, then silence until the idle timeout', async () => {
    fake.script({ kind: 'stall', afterChunks: 1, chunks: 5 });
    const r = await postUntilError(`${fake.url}/chat/completions`, chat({ stream: true }), { dispatcher: agent({ bodyTimeout: 300 }) });
    expect(r.status).toBe(200);
    expect(codes(r.error)).toContain('UND_ERR_BODY_TIMEOUT');
    expect(openaiContent(r.text)).toHaveLength(1);
  });

  test('dribble: the body arrives in many small pieces and is intact', async () => {
    fake.script({ kind: 'dribble', bytesPerWrite: 64, delayMs: 2, chunks: 2 });
    const r = await post(`${fake.url}/chat/completions`, chat({ stream: true }));
    expect(r.pieces.length).toBeGreaterThan(5);
    expect(openaiContent(r.text).join('')).toBe('Hello from primary');
    expect(r.text.endsWith('data: [DONE]\n\n')).toBe(true);

    fake.script({ kind: 'dribble', bytesPerWrite: 50, delayMs: 1 });
    const n = await post(`${fake.url}/chat/completions`, chat());
    expect(n.pieces.length).toBeGreaterThan(5);
    expect(JSON.parse(n.text).choices[0].message.content).toBe('Hello from primary');
  });

  test('truncated JSON: valid headers, matching content-length, unparsable body', async () => {
    fake.script({ kind: 'truncated-json' });
    const r = await post(`${fake.url}/chat/completions`, chat());
    expect(r.status).toBe(200);
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
    expect(r.text.startsWith('{"id":"chatcmpl-')).toBe(true);
    expect(() => JSON.parse(r.text)).toThrow();

    fake.script({ kind: 'truncated-json', earlyClose: true, keepBytes: 10 });
    const e = await postUntilError(`${fake.url}/chat/completions`, chat());
    expect(e.status).toBe(200);
    expect(e.text).toHaveLength(10);
    expect(e.error).toBeDefined();
  });

  test('error-body: HTTP 200 carrying an error', async () => {
    fake.script({ kind: 'error-body', status: 503 });
    const r = await post(`${fake.url}/chat/completions`, chat());
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).error.message).toBe('The server is overloaded or not ready yet.');
  });

  test('garbage: raw non-HTTP bytes, then close → parser error', async () => {
    fake.script({ kind: 'garbage' });
    const r = await postUntilError(`${fake.url}/chat/completions`, chat());
    expect(r.status).toBeUndefined();
    // undici's HTTPParserError: note its `code` is undefined for this case, only the name tells.
    expect(r.error?.name).toBe('HTTPParserError');
    expect(r.error?.message).toMatch(/does not match the HTTP\/1.1 protocol/);
  });

  test('split-sse: writes split mid-line arrive in separate pieces and reassemble', async () => {
    const text = 'Grüße 👋🏽 from the split stream';
    fake.script({ kind: 'split-sse', text, chunks: 4, splitDelayMs: 15 });
    const r = await post(`${fake.url}/chat/completions`, chat({ stream: true }));
    // Some piece ends in the middle of an SSE line (not on a line break).
    expect(r.pieces.some((p) => !p.toString('latin1').endsWith('\n'))).toBe(true);
    expect(r.pieces.length).toBeGreaterThanOrEqual(2 * (1 + 4 + 1));
    expect(openaiContent(r.text).join('')).toBe(text);

    fake.script({ kind: 'split-sse', text, chunks: 4, splitDelayMs: 5 });
    const s = await sdk(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never, stream: true });
    let got = '';
    for await (const c of s) got += c.choices[0]?.delta.content ?? '';
    expect(got).toBe(text);
  });

  test('stream-error: data: {"error":...} after K chunks, no [DONE]; the SDK throws APIError', async () => {
    fake.script({ kind: 'stream-error', afterChunks: 2 });
    const r = await post(`${fake.url}/chat/completions`, chat({ stream: true }));
    expect(r.status).toBe(200);
    const events = sseJSON(r.text);
    expect(openaiContent(r.text)).toHaveLength(2);
    expect(events.at(-1)?.data.error).toMatchObject({ type: 'server_error', code: null, param: null });
    expect(r.text).not.toContain('[DONE]');

    fake.script({ kind: 'stream-error', afterChunks: 1, message: 'boom' });
    const s = await sdk(fake).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never, stream: true });
    let n = 0;
    const err = await (async () => {
      try {
        for await (const c of s) if (c.choices[0]?.delta.content) n++;
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(n).toBe(1);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).message).toContain('boom');
  });

  test('think time and chunk delay', async () => {
    fake.script({ kind: 'ok', thinkMs: 150 }, { kind: 'ok', chunks: 4, chunkDelayMs: 60 });
    const t0 = Date.now();
    const res = await request(`${fake.url}/chat/completions`, { method: 'POST', body: chat({ stream: true }), dispatcher: agent() });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    await res.body.text();

    const t1 = Date.now();
    const res2 = await request(`${fake.url}/chat/completions`, { method: 'POST', body: chat({ stream: true }), dispatcher: agent() });
    const arrivals: number[] = [];
    for await (const _ of res2.body) arrivals.push(Date.now() - t1);
    expect(arrivals.at(-1)).toBeGreaterThanOrEqual(170); // 3 gaps of 60ms
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
  });

  test('expectKey: missing and wrong keys get the real 401 bodies; the key never shows in full', async () => {
    const f = await startFakeProvider({ flavor: 'openai', expectKey: 'sk-proj-abcdefghijklmnop1234' });
    try {
      const missing = await post(`${f.url}/chat/completions`, chat());
      expect(missing.status).toBe(401);
      expect(JSON.parse(missing.text).error).toMatchObject({ type: 'invalid_request_error', code: null });
      expect(JSON.parse(missing.text).error.message).toMatch(/You didn't provide an API key/);
      const wrong = await post(`${f.url}/chat/completions`, chat(), { headers: { authorization: 'Bearer sk-proj-wrongwrongwrong9999' } });
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.text).error.code).toBe('invalid_api_key');
      expect(wrong.text).not.toContain('sk-proj-wrongwrongwrong9999');
      expect(wrong.text).toContain('9999');
      await expect(sdk(f, 'bad').chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never })).rejects.toBeInstanceOf(
        OpenAI.AuthenticationError,
      );
      const ok = await sdk(f, 'sk-proj-abcdefghijklmnop1234').chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never });
      expect(ok.choices[0]?.message.content).toBe('Hello from openai');
      expect(f.counts.byOutcome).toMatchObject({ 'auth-failed': 3, ok: 1 });
    } finally {
      await f.close();
    }
  });

  test('validation: missing model, missing messages, bad JSON', async () => {
    const a = await post(`${fake.url}/chat/completions`, JSON.stringify({ messages: MESSAGES }));
    expect(a.status).toBe(400);
    expect(JSON.parse(a.text).error.message).toBe('you must provide a model parameter');
    const b = await post(`${fake.url}/chat/completions`, JSON.stringify({ model: 'm' }));
    expect(JSON.parse(b.text).error.code).toBe('missing_required_parameter');
    const c = await post(`${fake.url}/chat/completions`, '{"model":');
    expect(c.status).toBe(400);
    expect(JSON.parse(c.text).error.message).toMatch(/could not parse the JSON body/);
    expect(fake.counts.byOutcome).toMatchObject({ invalid: 2, 'bad-json': 1 });
  });

  test('unknown path is a 404 Invalid URL; GET /v1/models lists models', async () => {
    const r = await post(`${fake.url}/completions/legacy`, '{}');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text).error.message).toBe('Invalid URL (POST /v1/completions/legacy)');
    const m = await request(`${fake.url}/models`, { dispatcher: agent() });
    expect(((await m.body.json()) as { object: string }).object).toBe('list');
  });
});

// ---------------------------------------------------------------- Anthropic flavor

describe('anthropic flavor', () => {
  let fake: FakeProvider;
  const KEY = 'sk-ant-api03-abcdefghijklmnop';
  const headers = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
  beforeAll(async () => {
    fake = await startFakeProvider({ flavor: 'anthropic', name: 'claude', expectKey: KEY });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const messages = (body: string, h: Record<string, string> = headers): Promise<Posted> => post(`${fake.url}/messages`, body, { headers: h });

  test('url is the /v1 base', () => {
    expect(fake.url).toBe(`http://127.0.0.1:${fake.port}/v1`);
  });

  test('non-stream message', async () => {
    const r = await messages(claude());
    expect(r.status).toBe(200);
    expect(r.headers['request-id']).toMatch(/^req_/);
    const m = JSON.parse(r.text);
    expect(m.id).toMatch(/^msg_01[A-Za-z0-9]{22}$/);
    expect(m).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hello from claude' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 9, output_tokens: 4 },
    });
  });

  test('stream: the documented event sequence, event names matching data types', async () => {
    fake.script({ kind: 'ok', chunks: 5, text: 'alpha beta gamma delta epsilon' });
    const r = await messages(claude({ stream: true }));
    expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = parseSSE(r.text);
    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event);
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array(5).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const data = events.map((e) => JSON.parse(e.data));
    expect(data[0].message).toMatchObject({ role: 'assistant', content: [], stop_reason: null, model: 'claude-sonnet-4-5', usage: { input_tokens: 9 } });
    expect(data[1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    const text = data
      .filter((d) => d.type === 'content_block_delta')
      .map((d) => {
        expect(d.delta.type).toBe('text_delta');
        return d.delta.text;
      })
      .join('');
    expect(text).toBe('alpha beta gamma delta epsilon');
    expect(data.at(-2)).toEqual({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } });
  });

  const TOOLS = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];

  test('tool_use, non-stream', async () => {
    fake.script({ kind: 'ok', toolCall: true });
    const m = JSON.parse((await messages(claude({ tools: TOOLS }))).text);
    expect(m.stop_reason).toBe('tool_use');
    expect(m.content).toHaveLength(1);
    expect(m.content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });
    expect(m.content[0].id).toMatch(/^toolu_01/);
  });

  test('tool_use, stream, after some text: input_json_delta reassembles', async () => {
    fake.script({ kind: 'ok', toolCall: { arguments: { city: 'Lima' } }, text: 'Let me check.', chunks: 3 });
    const r = await messages(claude({ tools: TOOLS, stream: true }));
    const data = sseJSON(r.text).map((e) => e.data);
    const starts = data.filter((d) => d.type === 'content_block_start');
    expect(starts.map((s) => s.content_block.type)).toEqual(['text', 'tool_use']);
    expect(starts[1]).toMatchObject({ index: 1, content_block: { name: 'get_weather', input: {} } });
    const json = data
      .filter((d) => d.type === 'content_block_delta' && d.index === 1)
      .map((d) => {
        expect(d.delta.type).toBe('input_json_delta');
        return d.delta.partial_json;
      })
      .join('');
    expect(JSON.parse(json)).toEqual({ city: 'Lima' });
    expect(data.filter((d) => d.type === 'content_block_stop').map((d) => d.index)).toEqual([0, 1]);
    expect(data.at(-2).delta.stop_reason).toBe('tool_use');
  });

  test.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [504, 'timeout_error'],
    [529, 'overloaded_error'],
  ])('status %i has Anthropic error body of type %s', async (status, type) => {
    fake.script({ kind: 'status', status });
    const r = await messages(claude());
    expect(r.status).toBe(status);
    const body = JSON.parse(r.text);
    expect(body.type).toBe('error');
    expect(body.error.type).toBe(type);
    expect(typeof body.error.message).toBe('string');
    expect(body.request_id).toMatch(/^req_/);
  });

  test('429 with retry-after', async () => {
    fake.script({ kind: 'rate-limit', retryAfter: 12 });
    const r = await messages(claude());
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('12');
    expect(JSON.parse(r.text).error.type).toBe('rate_limit_error');
  });

  test('context-window and credit-balance errors (and the sidecar reads them so)', async () => {
    fake.script({ kind: 'context-window' }, { kind: 'quota' });
    const a = JSON.parse((await messages(claude())).text).error;
    expect(a.type).toBe('invalid_request_error');
    expect(a.message).toMatch(/^prompt is too long: \d+ tokens > 200000 maximum$/);
    expect(hintFromError(undefined, a.message)).toBe('context-window');
    const b = JSON.parse((await messages(claude())).text).error;
    expect(b.message).toMatch(/credit balance is too low/);
    expect(hintFromError(undefined, b.message)).toBe('quota');
  });

  test('auth: missing key, wrong key, missing anthropic-version', async () => {
    const missing = await messages(claude(), { 'anthropic-version': '2023-06-01' });
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.text).error).toEqual({ type: 'authentication_error', message: 'x-api-key header is required' });
    const wrong = await messages(claude(), { 'x-api-key': 'nope', 'anthropic-version': '2023-06-01' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text).error).toEqual({ type: 'authentication_error', message: 'invalid x-api-key' });
    const bearer = await messages(claude(), { authorization: `Bearer ${KEY}`, 'anthropic-version': '2023-06-01' });
    expect(bearer.status).toBe(401);
    const noVersion = await messages(claude(), { 'x-api-key': KEY });
    expect(noVersion.status).toBe(400);
    expect(JSON.parse(noVersion.text).error.message).toBe('anthropic-version: header is required');
  });

  test('validation: max_tokens required, no system role in messages', async () => {
    const a = await messages(JSON.stringify({ model: 'c', messages: [{ role: 'user', content: 'x' }] }));
    expect(a.status).toBe(400);
    expect(JSON.parse(a.text).error.message).toBe('max_tokens: Field required');
    const b = await messages(claude({ messages: [{ role: 'system', content: 'x' }, { role: 'user', content: 'y' }] }));
    expect(b.status).toBe(400);
    expect(JSON.parse(b.text).error.message).toMatch(/Unexpected role "system"/);
  });

  test('stream-error: event: error after K deltas', async () => {
    fake.script({ kind: 'stream-error', afterChunks: 2 });
    const r = await messages(claude({ stream: true }));
    expect(r.status).toBe(200);
    const events = parseSSE(r.text);
    expect(events.filter((e) => e.event === 'content_block_delta')).toHaveLength(2);
    const last = events.at(-1);
    expect(last?.event).toBe('error');
    expect(JSON.parse(last?.data ?? '')).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(events.some((e) => e.event === 'message_stop')).toBe(false);
  });

  test('stream-error on a non-stream request is a 529', async () => {
    fake.script({ kind: 'stream-error', afterChunks: 0 });
    const r = await messages(claude());
    expect(r.status).toBe(529);
    expect(JSON.parse(r.text).error.type).toBe('overloaded_error');
  });

  test('cut after K deltas', async () => {
    fake.script({ kind: 'cut', afterChunks: 1 });
    const r = await postUntilError(`${fake.url}/messages`, claude({ stream: true }), { headers });
    expect(codes(r.error)).toContain('UND_ERR_SOCKET');
    const events = parseSSE(r.text).map((e) => e.event);
    expect(events).toEqual(['message_start', 'content_block_start', 'ping', 'content_block_delta']);
  });

  test('split-sse: event and data lines split across packets still parse', async () => {
    fake.script({ kind: 'split-sse', chunks: 3, splitDelayMs: 10 });
    const r = await messages(claude({ stream: true }));
    expect(r.pieces.some((p) => !p.toString('latin1').endsWith('\n'))).toBe(true);
    const text = sseJSON(r.text)
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => e.data.delta.text)
      .join('');
    expect(text).toBe('Hello from claude');
  });

  test('embeddings do not exist on Anthropic', async () => {
    const r = await post(`${fake.url}/embeddings`, '{}', { headers });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text).error.type).toBe('not_found_error');
  });
});

// ---------------------------------------------------------------- lifecycle, free port

describe('lifecycle', () => {
  let f: FakeProvider | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  test('close() destroys hung, stalled and idle sockets promptly', async () => {
    f = await startFakeProvider({ flavor: 'openai', script: [{ kind: 'hang' }, { kind: 'stall', afterChunks: 1 }, { kind: 'headers-then-stall' }] });
    const d = agent();
    const hung = postUntilError(`${f.url}/chat/completions`, chat(), { dispatcher: d });
    const stalled = postUntilError(`${f.url}/chat/completions`, chat({ stream: true }), { dispatcher: d });
    const headersOnly = postUntilError(`${f.url}/chat/completions`, chat({ stream: true }), { dispatcher: d });
    await f.waitForRequests(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(f.counts.inFlight).toBe(3);
    const t0 = Date.now();
    await f.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    const results = await Promise.all([hung, stalled, headersOnly]);
    for (const r of results) expect(r.error).toBeDefined();
    expect(f.counts.inFlight).toBe(0);
  });

  test('close() cancels pending think and chunk timers', async () => {
    f = await startFakeProvider({ flavor: 'anthropic', thinkMs: 60_000, script: [{ kind: 'ok', thinkMs: 0, chunkDelayMs: 60_000, chunks: 3 }] });
    const a = postUntilError(`${f.url}/messages`, claude({ stream: true }));
    const b = postUntilError(`${f.url}/messages`, claude());
    await f.waitForRequests(2);
    await f.close();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.status).toBe(200);
    expect(ra.error).toBeDefined();
    expect(rb.error).toBeDefined();
  });

  test('close() twice is fine', async () => {
    f = await startFakeProvider({ flavor: 'openai' });
    await Promise.all([f.close(), f.close()]);
  });

  test('refusedURL: connection refused', async () => {
    const url = await refusedURL();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const r = await postUntilError(`${url}/chat/completions`, chat());
    expect(codes(r.error)).toContain('ECONNREFUSED');
  });

  test('keep-alive: sequential requests reuse connections', async () => {
    f = await startFakeProvider({ flavor: 'openai' });
    const d = agent();
    for (let i = 0; i < 10; i++) await post(`${f.url}/chat/completions`, chat({ stream: i % 2 === 0 }), { dispatcher: d });
    // undici's pool opens a second connection on the second request, then reuses them.
    expect(f.counts.connections).toBeLessThanOrEqual(2);
    expect(f.counts.requests).toBe(10);
  });

  test('maxRecords: 0 keeps counters but no records', async () => {
    f = await startFakeProvider({ flavor: 'openai', maxRecords: 0 });
    await post(`${f.url}/chat/completions`, chat());
    expect(f.requests).toHaveLength(0);
    expect(f.counts.requests).toBe(1);
  });

  test('every behaviour kind is handled (no 500 from the fake itself)', async () => {
    f = await startFakeProvider({ flavor: 'openai' });
    const all: Behaviour[] = [
      { kind: 'ok' },
      { kind: 'status', status: 503 },
      { kind: 'rate-limit' },
      { kind: 'context-window' },
      { kind: 'quota' },
      { kind: 'reset' },
      { kind: 'cut', afterChunks: 1 },
      { kind: 'dribble', delayMs: 0, bytesPerWrite: 256 },
      { kind: 'truncated-json' },
      { kind: 'error-body' },
      { kind: 'garbage' },
      { kind: 'split-sse', splitDelayMs: 1 },
      { kind: 'stream-error', afterChunks: 1 },
    ];
    for (const b of all) {
      f.script(b);
      const r = await postUntilError(`${f.url}/chat/completions`, chat({ stream: true }));
      expect(r.text).not.toContain('fake provider: internal error');
    }
    expect(Object.keys(f.counts.byOutcome).sort()).toEqual(all.map((b) => b.kind).sort());
  });
});

// ---------------------------------------------------------------- knownModels

describe('knownModels: a model or deployment the provider does not have gets its real 404', () => {
  const fakes: FakeProvider[] = [];
  afterAll(() => Promise.all(fakes.map((f) => f.close())));
  const start = async (flavor: 'openai' | 'anthropic'): Promise<FakeProvider> => {
    const f = await startFakeProvider({ flavor, knownModels: ['gpt-4o-mini', 'my-deployment', 'claude-sonnet-4-5'] });
    fakes.push(f);
    return f;
  };

  test("OpenAI: 404 model_not_found, as the SDK's NotFoundError; a known model is served", async () => {
    const f = await start('openai');
    const err = await sdk(f).chat.completions.create({ model: 'gpt-4.5-preview', messages: MESSAGES as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err).toMatchObject({ status: 404, code: 'model_not_found', type: 'invalid_request_error' });
    expect((err as APIError).message).toContain('The model `gpt-4.5-preview` does not exist');
    expect((await sdk(f).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES as never })).object).toBe('chat.completion');
    expect(f.requests.map((r) => r.outcome)).toEqual(['model-not-found', 'ok']);
  });

  test('Azure: 404 DeploymentNotFound for a deployment the resource lacks', async () => {
    const f = await start('openai');
    const r = await post(`${f.origin}/openai/deployments/renamed/chat/completions?api-version=2024-10-21`, chat());
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text).error).toMatchObject({ code: 'DeploymentNotFound' });
    const ok = await post(`${f.origin}/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21`, chat());
    expect(ok.status).toBe(200);
  });

  test('Anthropic: 404 not_found_error "model: <name>"', async () => {
    const f = await start('anthropic');
    const r = await post(`${f.url}/messages`, claude({ model: 'claude-3-opus-20240229' }), { headers: { 'anthropic-version': '2023-06-01' } });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text)).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: 'model: claude-3-opus-20240229' } });
    expect((await post(`${f.url}/messages`, claude(), { headers: { 'anthropic-version': '2023-06-01' } })).status).toBe(200);
  });
});

describe('refusesParams: a model that refuses a parameter gets its real 400', () => {
  const fakes: FakeProvider[] = [];
  afterAll(() => Promise.all(fakes.map((f) => f.close())));

  test("Anthropic: 400 invalid_request_error \"`temperature` is deprecated for this model.\"; without it, served", async () => {
    const f = await startFakeProvider({ flavor: 'anthropic', refusesParams: ['temperature', 'top_k'] });
    fakes.push(f);
    const r = await post(`${f.url}/messages`, claude({ temperature: 0 }), { headers: { 'anthropic-version': '2023-06-01' } });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: '`temperature` is deprecated for this model.' } });
    expect((await post(`${f.url}/messages`, claude(), { headers: { 'anthropic-version': '2023-06-01' } })).status).toBe(200);
    expect(f.requests.map((q) => q.outcome)).toEqual(['param-refused', 'ok']);
  });

  test("OpenAI: 400 unsupported_parameter, as the SDK's BadRequestError", async () => {
    const f = await startFakeProvider({ flavor: 'openai', refusesParams: ['temperature'] });
    fakes.push(f);
    const err = await sdk(f).chat.completions.create({ model: 'o3', temperature: 0, messages: MESSAGES as never }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'temperature' });
  });
});
