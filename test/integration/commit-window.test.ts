/**
 * Issue 13, the commit window: a route's `commit` holds a stream's first
 * content (afterTokens tokens or afterMs after its first content chunk) so
 * that a stream that starts and then stalls, crawls below
 * minTokensPerSecond or breaks can still fall back invisibly. Driven
 * through the openai and Anthropic SDKs against the real sidecar, with fake
 * providers of scripted latency: a stream that starts then stalls, one that
 * crawls, one that is healthy, one that is short. The decisions themselves
 * are commit-window.test.ts.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { streamChatText } from '../support/chat-client.ts';
import { eventually, startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let primary: FakeProvider;
let claude: FakeProvider;
let sidecar: SidecarProcess;
let client: OpenAI;

/** 20 chunks of 20 characters: 5 estimated tokens a chunk, 100 in all. */
const PRIMARY_TEXT = 'abcdefghijklmnopqrs '.repeat(20);
const CLAUDE_TEXT = 'from claude';
/** A healthy stream: 5 tokens every 10 ms (500 tokens/s). */
const HEALTHY = { kind: 'ok', chunkDelayMs: 10 } as const;
/** A crawl: 5 tokens every 250 ms (20 tokens/s), under the 50 of the routes below. */
const CRAWL = { kind: 'ok', chunkDelayMs: 250 } as const;

const primaryT = `{name: primary, provider: openai, baseURL: "PRIMARY", model: gpt-4o-mini, apiKey: {value: sk-primary}}`;
const claudeT = `{name: claude, provider: anthropic, baseURL: "CLAUDE", model: claude-sonnet-4-5, priority: 1, apiKey: {value: sk-claude}}`;

function route(name: string, commit: string | undefined, first = primaryT, second = claudeT, timeouts = '{firstByte: 2s, idle: 300ms, total: 20s}'): string {
  return `
- name: ${name}
  targets:
  - ${first}
  - ${second}
  retry: {attempts: 0}
  circuitBreaker: {consecutiveFailures: 100, openFor: 1s}
  timeouts: ${timeouts}${commit ? `\n  commit: ${commit}` : ''}`;
}

const WINDOW = '{afterTokens: 40, afterMs: 1s, minTokensPerSecond: 50}';

beforeAll(async () => {
  primary = await startFakeProvider({ flavor: 'openai', name: 'primary', text: PRIMARY_TEXT, chunks: 20 });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', text: CLAUDE_TEXT, chunks: 3 });
  const claudeFirst = `{name: claude, provider: anthropic, baseURL: "CLAUDE", model: claude-sonnet-4-5, apiKey: {value: sk-claude}}`;
  const primarySecond = `{name: primary, provider: openai, baseURL: "PRIMARY", model: gpt-4o-mini, priority: 1, apiKey: {value: sk-primary}}`;
  const yaml = `routes:${[
    route('window', WINDOW),
    route('tokens-only', '{afterTokens: 1000}'),
    route('no-window', undefined),
    route('short-deadline', '{afterMs: 800ms}', primaryT, claudeT, '{firstByte: 2s, idle: 5s, total: 1s}'),
    route('window-retry', WINDOW).replace('retry: {attempts: 0}', 'retry: {attempts: 1, backoff: {initial: 10ms, max: 20ms}}'),
    route('claude-window', '{afterTokens: 40, afterMs: 1s, minTokensPerSecond: 50}', claudeFirst, primarySecond),
  ].join('')}\n`;
  sidecar = await startSidecarProcess(yaml.replaceAll('PRIMARY', primary.url).replaceAll('CLAUDE', claude.url));
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

const windowFallbacks = (route: string, reason: string) => sidecar.metric('llmroute_commit_window_fallbacks_total', { route, reason });

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

/** A stream's text and, when it broke, its error (the SDK throws on the error event). */
async function streamOutcome(model: string): Promise<{ text: string; error: Error | undefined; target: string | null; fallbacks: string | null }> {
  const { data, response } = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  let text = '';
  try {
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
    return { text, error: undefined, target: response.headers.get('x-llmroute-target'), fallbacks: response.headers.get('x-llmroute-fallbacks') };
  } catch (e) {
    return { text, error: e as Error, target: response.headers.get('x-llmroute-target'), fallbacks: response.headers.get('x-llmroute-fallbacks') };
  }
}

describe('a stream that starts and then goes wrong falls back invisibly inside the window', () => {
  it('starts then stalls: the idle timeout inside the window is a failure before the commit point (reason stall)', async () => {
    primary.script({ kind: 'stall', afterChunks: 2 });
    const before = await windowFallbacks('tokens-only', 'stall');
    const { text, headers } = await streamChatText(client, 'tokens-only');
    expect(text).toBe(CLAUDE_TEXT);
    expect(headers.get('x-llmroute-target')).toBe('claude');
    expect(headers.get('x-llmroute-fallbacks')).toBe('1');
    const line = await sidecar.waitForLog((l) => l.msg === 'upstream attempt failed' && l.route === 'tokens-only');
    expect(line).toMatchObject({ class: 'timeout', commitWindow: 'stall' });
    expect(String(line.error)).toMatch(/stalled longer than the idle timeout \(300ms\) in the commit window/);
    expect(await windowFallbacks('tokens-only', 'stall')).toBe(before + 1);
  });

  it('starts then crawls below minTokensPerSecond: a failed try at afterMs (class timeout, reason slow-stream)', async () => {
    primary.script(CRAWL);
    const before = await windowFallbacks('window', 'slow-stream');
    const [{ text, headers }, ms] = await timed(() => streamChatText(client, 'window'));
    expect(text).toBe(CLAUDE_TEXT);
    expect(headers.get('x-llmroute-target')).toBe('claude');
    expect(headers.get('x-llmroute-attempts')).toBe('2');
    expect(ms).toBeGreaterThanOrEqual(950);
    const line = await sidecar.waitForLog((l) => l.msg === 'upstream attempt failed' && l.route === 'window');
    expect(line).toMatchObject({ class: 'timeout', status: null, commitWindow: 'slow-stream' });
    expect(String(line.error)).toMatch(/tokens\/s in its commit window, below commit\.minTokensPerSecond \(50\)/);
    expect(await windowFallbacks('window', 'slow-stream')).toBe(before + 1);
    expect(await sidecar.metric('llmroute_upstream_attempts_total', { route: 'window', target: 'primary', outcome: 'timeout' })).toBeGreaterThanOrEqual(1);
  });

  it('a crawl is not retried on the same target (it cost a whole window): it falls back at once; a stall is retried', async () => {
    primary.script(CRAWL);
    const { text, headers } = await streamChatText(client, 'window-retry');
    expect(text).toBe(CLAUDE_TEXT);
    expect(headers.get('x-llmroute-attempts')).toBe('2');
    expect(primary.requests).toHaveLength(1);

    primary.reset();
    claude.reset();
    primary.script({ kind: 'stall', afterChunks: 1 }, HEALTHY);
    const again = await streamChatText(client, 'window-retry');
    expect(again.text).toBe(PRIMARY_TEXT);
    expect(again.headers.get('x-llmroute-target')).toBe('primary');
    expect(again.headers.get('x-llmroute-attempts')).toBe('2');
    expect(claude.requests).toHaveLength(0);
  });

  it('starts then sends an error event: it falls back, where without the window the client got the error', async () => {
    primary.script({ kind: 'stream-error', afterChunks: 2, message: 'overloaded mid-stream' });
    const held = await streamOutcome('window');
    expect(held).toMatchObject({ text: CLAUDE_TEXT, error: undefined, target: 'claude', fallbacks: '1' });
    expect(await windowFallbacks('window', 'server-error')).toBeGreaterThanOrEqual(1);

    primary.script({ kind: 'stream-error', afterChunks: 2, message: 'overloaded mid-stream' });
    const bare = await streamOutcome('no-window');
    expect(bare.target).toBe('primary');
    expect(bare.text.length).toBeGreaterThan(30);
    expect(PRIMARY_TEXT.startsWith(bare.text)).toBe(true);
    expect(bare.error?.message).toMatch(/overloaded mid-stream/);
  });

  it('starts then is cut (the connection closes): it falls back (reason connection-error)', async () => {
    primary.script({ kind: 'cut', afterChunks: 3 });
    const { text, headers } = await streamChatText(client, 'window');
    expect(text).toBe(CLAUDE_TEXT);
    expect(headers.get('x-llmroute-target')).toBe('claude');
    expect(await windowFallbacks('window', 'connection-error')).toBeGreaterThanOrEqual(1);
  });
});

describe('healthy and short streams', () => {
  it('a healthy stream commits at afterTokens on its target, every frame sent unchanged', async () => {
    primary.script(HEALTHY);
    const heldBefore = await sidecar.metric('llmroute_commit_window_held_seconds_count', { route: 'window', target: 'primary' });
    const { text, headers } = await streamChatText(client, 'window');
    expect(text).toBe(PRIMARY_TEXT);
    expect(headers.get('x-llmroute-target')).toBe('primary');
    expect(headers.get('x-llmroute-attempts')).toBe('1');
    expect(claude.requests).toHaveLength(0);
    expect(await sidecar.metric('llmroute_commit_window_held_seconds_count', { route: 'window', target: 'primary' })).toBe(heldBefore + 1);
  });

  it('a stream that finishes inside the window is sent at once: a short answer does not wait for afterMs', async () => {
    primary.script({ kind: 'ok', text: 'short', chunks: 2, chunkDelayMs: 20 });
    const [{ text, headers }, ms] = await timed(() => streamChatText(client, 'window'));
    expect(text).toBe('short');
    expect(headers.get('x-llmroute-target')).toBe('primary');
    expect(ms).toBeLessThan(900);
  });

  it('without commit, a crawl commits at its first content chunk and is served as it comes (today\'s behaviour)', async () => {
    primary.script({ kind: 'ok', chunks: 4, chunkDelayMs: 250 });
    const before = await sidecar.metric('llmroute_commit_window_held_seconds_count', { route: 'no-window' });
    const { text, headers } = await streamChatText(client, 'no-window');
    expect(text).toBe(PRIMARY_TEXT);
    expect(headers.get('x-llmroute-target')).toBe('primary');
    expect(claude.requests).toHaveLength(0);
    expect(await sidecar.metric('llmroute_commit_window_held_seconds_count', { route: 'no-window' })).toBe(before);
  });

  it('non-stream requests are not held', async () => {
    primary.script({ kind: 'ok' });
    const r = await client.chat.completions.create({ model: 'window', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]?.message.content).toBe(PRIMARY_TEXT);
  });
});

describe('the total deadline and the client inside the window', () => {
  it('the total deadline running out inside the window is a 504 before any byte, not a broken stream', async () => {
    // First content at 500 ms; the window would end at 1.3 s, past the 1 s deadline.
    primary.script({ kind: 'ok', thinkMs: 500, chunkDelayMs: 200 });
    const err = await client.chat.completions.create({ model: 'short-deadline', stream: true, messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e as { status?: number; error?: { type?: string } },
    );
    expect(err?.status).toBe(504);
    expect(err?.error?.type).toBe('llmroute_all_targets_failed');
  });

  it('a client that leaves inside the window ends the upstream stream', async () => {
    primary.script({ kind: 'ok', chunkDelayMs: 100 });
    const ac = new AbortController();
    const pending = client.chat.completions.create({ model: 'tokens-only', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { signal: ac.signal });
    await eventually(() => primary.requests.length >= 1);
    setTimeout(() => ac.abort(), 400);
    await expect(pending).rejects.toThrow();
    const line = await sidecar.waitForLog((l) => l.msg === 'client closed the request before an answer' && l.route === 'tokens-only');
    expect(line).toBeDefined();
    // The primary's stream (20 chunks 100 ms apart) is closed long before its 2 s end.
    await eventually(() => primary.counts.inFlight === 0, 1000);
    expect(claude.requests).toHaveLength(0);
  });
});

describe('the native Responses and Messages streams are held the same way', () => {
  it('Responses API to an openai target (native frames): a crawl falls back to the next target', async () => {
    primary.script(CRAWL);
    const { data, response } = await client.responses.create({ model: 'window', input: 'hi', stream: true }).withResponse();
    let text = '';
    for await (const e of data) if (e.type === 'response.output_text.delta') text += e.delta;
    expect(text).toBe(CLAUDE_TEXT);
    expect(response.headers.get('x-llmroute-target')).toBe('claude');
  });

  it('Responses API, healthy: the held native frames reach the client unchanged', async () => {
    primary.script(HEALTHY);
    const { data, response } = await client.responses.create({ model: 'window', input: 'hi', stream: true }).withResponse();
    let text = '';
    let completed = false;
    for await (const e of data) {
      if (e.type === 'response.output_text.delta') text += e.delta;
      if (e.type === 'response.completed') completed = true;
    }
    expect(text).toBe(PRIMARY_TEXT);
    expect(completed).toBe(true);
    expect(response.headers.get('x-llmroute-target')).toBe('primary');
  });

  it('Messages API to an anthropic target (native frames): a stall falls back to the openai target', async () => {
    claude.script({ kind: 'stall', afterChunks: 1 });
    const anthropic = new Anthropic({ baseURL: sidecar.baseURL.replace(/\/v1$/, ''), apiKey: 'unused', maxRetries: 0 });
    const { data, response } = await anthropic.messages.create({ model: 'claude-window', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    let text = '';
    for await (const e of data) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
    expect(text).toBe(PRIMARY_TEXT);
    expect(response.headers.get('x-llmroute-target')).toBe('primary');
  });
});
