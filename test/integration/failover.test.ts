/**
 * Faults injected on purpose, seen through the openai SDK: what fails over
 * invisibly, what reaches the client, and what the metrics say.
 */
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { refusedURL } from '../fakes/refused-port.ts';
import { askChat, streamChatText } from '../support/chat-client.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let primary: FakeProvider;
let claude: FakeProvider;
let sidecar: SidecarProcess;
let client: OpenAI;
let refused: string;

const policy = `
  retry: {attempts: 1, backoff: {initial: 5ms, max: 20ms}, retryAfterCap: 1s}
  timeouts: {connect: 500ms, firstByte: 400ms, idle: 300ms, total: 5s}
  circuitBreaker: {consecutiveFailures: 3, openFor: 1s}`;

/** Each test gets its own route (own breaker and cooldown state): primary OpenAI, then Anthropic. */
function route(name: string, extra = policy): string {
  return `
- name: ${name}
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - {name: claude, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5, priority: 1, apiKey: {value: sk-claude}}
${extra}`;
}

const names = ['svc', 'stall', 'cut', 'cutlate', 'idle', 'rl-long', 'rl-short', 'rl-all', 'badreq', 'auth', 'breaker', 'deadline', 'errbody', 'garbage', 'split', 'ctx', 'ctxfb', 'streamerr', 'trunc'];

beforeAll(async () => {
  primary = await startFakeProvider({ flavor: 'openai', name: 'primary', text: 'from primary', chunks: 4 });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', text: 'from claude', chunks: 4 });
  refused = await refusedURL();
  const routes = names.map((n) => route(n)).join('');
  const extra = `
- name: refused
  targets:
  - {name: dead, provider: openai-compatible, baseURL: "${refused}", model: m}
  - {name: claude, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5, priority: 1, apiKey: {value: sk-claude}}
${policy}
- name: deadline2
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  retry: {attempts: 0}
  timeouts: {firstByte: 10s, total: 300ms}
- name: ctx-fallback
  fallbackOn: [context-window, server-error]
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - {name: claude, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5, priority: 1, apiKey: {value: sk-claude}}
`;
  sidecar = await startSidecarProcess(`routes:${routes}${extra}`);
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([primary?.close(), claude?.close()]);
});

beforeEach(() => {
  primary.reset();
  claude.reset();
});

const ask = (model: string) => askChat(client, model);
const streamText = (model: string) => streamChatText(client, model);

/** The raw SSE text of a stream, to see exactly how it ends. */
async function rawStream(model: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${sidecar.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, body: await res.text() };
}

describe('before the commit point, every failure falls back invisibly', () => {
  it('503 twice (first try and its retry) → Anthropic answers, in OpenAI shape', async () => {
    primary.script({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const { data, response } = await ask('svc');
    expect(data.choices[0]!.message.content).toBe('from claude');
    expect(response.headers.get('x-llmroute-target')).toBe('claude');
    expect(response.headers.get('x-llmroute-attempts')).toBe('3');
    expect(response.headers.get('x-llmroute-fallbacks')).toBe('1');
    expect(await sidecar.metric('llmroute_fallbacks_total', { route: 'svc', from: 'primary', to: 'claude', reason: 'server-error' })).toBe(1);
    expect(await sidecar.metric('llmroute_upstream_attempts_total', { route: 'svc', target: 'primary', outcome: 'server-error' })).toBe(2);
  });

  it('a stream whose headers arrive and then nothing (firstByte timeout) falls back', async () => {
    primary.script({ kind: 'headers-then-stall' }, { kind: 'headers-then-stall' });
    const { text, headers } = await streamText('stall');
    expect(text).toBe('from claude');
    expect(headers.get('x-llmroute-target')).toBe('claude');
    expect(await sidecar.metric('llmroute_upstream_attempts_total', { route: 'stall', target: 'primary', outcome: 'timeout' })).toBe(2);
  });

  it('a stream cut before any content falls back', async () => {
    primary.script({ kind: 'cut', afterChunks: 0 }, { kind: 'cut', afterChunks: 0 });
    expect((await streamText('cut')).text).toBe('from claude');
  });

  it('a refused connection falls back', async () => {
    const { data, response } = await ask('refused');
    expect(data.choices[0]!.message.content).toBe('from claude');
    expect(response.headers.get('x-llmroute-fallbacks')).toBe('1');
  });

  it('garbage instead of HTTP falls back', async () => {
    primary.script({ kind: 'garbage' }, { kind: 'garbage' });
    expect((await ask('garbage')).data.choices[0]!.message.content).toBe('from claude');
    expect(await sidecar.metric('llmroute_upstream_attempts_total', { route: 'garbage', target: 'primary', outcome: 'connection-error' })).toBe(2);
  });

  it('a 200 that carries an error body falls back', async () => {
    primary.script({ kind: 'error-body' }, { kind: 'error-body' });
    expect((await ask('errbody')).data.choices[0]!.message.content).toBe('from claude');
  });

  it('a truncated JSON body falls back', async () => {
    primary.script({ kind: 'truncated-json' }, { kind: 'truncated-json' });
    expect((await ask('trunc')).data.choices[0]!.message.content).toBe('from claude');
  });

  it('an in-stream error before content falls back', async () => {
    primary.script({ kind: 'stream-error', afterChunks: 0 }, { kind: 'stream-error', afterChunks: 0 });
    expect((await streamText('streamerr')).text).toBe('from claude');
  });

  it('SSE lines split across TCP packets are reassembled', async () => {
    primary.script({ kind: 'split-sse' });
    const { text, headers } = await streamText('split');
    expect(text).toBe('from primary');
    expect(headers.get('x-llmroute-target')).toBe('primary');
  });
});

describe('after the commit point, a failure is an explicit error, never a clean end', () => {
  it('a stream cut after content ends with an error event and no [DONE]', async () => {
    primary.script({ kind: 'cut', afterChunks: 2 });
    const { status, body } = await rawStream('cutlate');
    expect(status).toBe(200);
    expect(body).toContain('data: {"error":');
    expect(body).not.toContain('[DONE]');
    expect(claude.counts.requests).toBe(0);
    expect(await sidecar.metric('llmroute_stream_errors_total', { route: 'cutlate', target: 'primary' })).toBe(1);

    // and the SDK raises instead of returning a truncated answer as if complete
    primary.script({ kind: 'cut', afterChunks: 2 });
    await expect(streamText('cutlate')).rejects.toThrow();
  });

  it('a stall between chunks longer than idle ends with a timeout error event', async () => {
    primary.script({ kind: 'stall', afterChunks: 2 });
    const { body } = await rawStream('idle');
    expect(body).toMatch(/data: \{"error":\{"message":"the stream stalled longer than the idle timeout/);
    expect(body).not.toContain('[DONE]');
  });
});

describe('rate limits', () => {
  it('a Retry-After longer than retryAfterCap moves on at once and cools the target down', async () => {
    primary.script({ kind: 'rate-limit', retryAfter: 30 });
    const first = await ask('rl-long');
    expect(first.response.headers.get('x-llmroute-target')).toBe('claude');
    expect(primary.counts.requests).toBe(1);
    // the next requests skip the cooling target entirely
    const second = await ask('rl-long');
    expect(second.response.headers.get('x-llmroute-target')).toBe('claude');
    expect(second.response.headers.get('x-llmroute-attempts')).toBe('1');
    expect(primary.counts.requests).toBe(1);
  });

  it('a Retry-After within the cap is waited out on the same target', async () => {
    primary.script({ kind: 'rate-limit', retryAfterMs: 150 });
    const started = Date.now();
    const { response } = await ask('rl-short');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(response.headers.get('x-llmroute-target')).toBe('primary');
    expect(response.headers.get('x-llmroute-attempts')).toBe('2');
  });

  it('when every target is rate-limited the client gets 429 with Retry-After', async () => {
    primary.script({ kind: 'rate-limit', retryAfter: 20 });
    claude.script({ kind: 'rate-limit', retryAfter: 7 });
    const err = await ask('rl-all').catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.headers.get('retry-after')).toBe('7');
    expect(err.error.type).toBe('llmroute_all_targets_failed');
    expect(err.error.attempts).toEqual([
      { target: 'primary', class: 'rate-limit', status: 429 },
      { target: 'claude', class: 'rate-limit', status: 429 },
    ]);
  });
});

describe('errors that are not the provider being down', () => {
  it('a 400 goes straight back to the client, with no retry and no fallback', async () => {
    primary.script({ kind: 'status', status: 400, message: 'Invalid value for temperature', code: 'invalid_value', param: 'temperature' });
    const err = await ask('badreq').catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error).toMatchObject({ message: 'Invalid value for temperature', param: 'temperature' });
    expect(primary.counts.requests).toBe(1);
    expect(claude.counts.requests).toBe(0);
  });

  it('a context-window error goes back to the client by default', async () => {
    primary.script({ kind: 'context-window' });
    const err = await ask('ctx').catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.error.code).toBe('context_length_exceeded');
    expect(claude.counts.requests).toBe(0);
  });

  it('a context-window error falls back when fallbackOn lists it', async () => {
    primary.script({ kind: 'context-window' });
    expect((await ask('ctx-fallback')).data.choices[0]!.message.content).toBe('from claude');
  });

  it('a 401 opens the circuit at once and falls back', async () => {
    primary.script({ kind: 'status', status: 401 });
    expect((await ask('auth')).response.headers.get('x-llmroute-target')).toBe('claude');
    expect(await sidecar.metric('llmroute_circuit_state', { route: 'auth', target: 'primary' })).toBe(2);
    await ask('auth');
    expect(primary.counts.requests).toBe(1);
  });
});

describe('circuit breaker, through the real process', () => {
  it('opens after consecutive failures, lets one probe through after openFor, and closes on its success', async () => {
    primary.setBehaviour({ kind: 'status', status: 500 });
    await ask('breaker'); // 2 failures (try + retry)
    await ask('breaker'); // 3rd failure opens it
    expect(await sidecar.metric('llmroute_circuit_state', { route: 'breaker', target: 'primary' })).toBe(2);
    const sent = primary.counts.requests;
    await ask('breaker');
    expect(primary.counts.requests).toBe(sent); // skipped while open
    primary.setBehaviour(undefined); // the provider recovers
    await new Promise((r) => setTimeout(r, 1100));
    const { response } = await ask('breaker');
    expect(response.headers.get('x-llmroute-target')).toBe('primary');
    expect(await sidecar.metric('llmroute_circuit_state', { route: 'breaker', target: 'primary' })).toBe(0);
  });
});

describe('the total deadline', () => {
  it('holds across every try: a hung provider gets 504 at the deadline', async () => {
    primary.script({ kind: 'hang' });
    const started = Date.now();
    const err = await ask('deadline2').catch((e) => e);
    const took = Date.now() - started;
    expect(err.status).toBe(504);
    expect(err.error.type).toBe('llmroute_all_targets_failed');
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(2000);
  });
});
