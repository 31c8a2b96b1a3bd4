/**
 * Issue 10: what each timeout means, shown with small values through the
 * openai Node SDK against the real sidecar. firstByte is a stream's
 * liveness (headers, then any first byte: a role chunk, a ping); a
 * non-stream answer arrives whole and is bounded by firstContent, as is a
 * stream's first content chunk. The defaults (firstByte 15s, firstContent
 * 10m) are the same rules at full scale: attempt-timeouts.test.ts.
 */
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { askChat, streamChatText } from '../support/chat-client.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let primary: FakeProvider;
let claude: FakeProvider;
let sidecar: SidecarProcess;
let client: OpenAI;

const openaiTarget = (priority = 0) => `{name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, priority: ${priority}, apiKey: {value: sk-primary}}`;
const claudeTarget = (priority: number, name = 'claude') =>
  `{name: ${name}, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5, priority: ${priority}, apiKey: {value: sk-claude}}`;

function route(name: string, timeouts: string, first = openaiTarget(), second = claudeTarget(1)): string {
  return `
- name: ${name}
  targets:
  - ${first}
  - ${second}
  retry: {attempts: 0}
  circuitBreaker: {consecutiveFailures: 100, openFor: 1s}
  timeouts: ${timeouts}`;
}

const SMALL = '{firstByte: 300ms, firstContent: 3s}';
const SHORT_CONTENT = '{firstByte: 300ms, firstContent: 1s}';

beforeAll(async () => {
  primary = await startFakeProvider({ flavor: 'openai', name: 'primary', text: 'from primary', chunks: 3 });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', text: 'from claude', chunks: 3 });
  sidecar = await startSidecarProcess(`routes:${[
    route('pings', SMALL),
    route('claude-pings', SMALL, claudeTarget(0, 'claude-first'), openaiTarget(1)),
    route('silent', SMALL),
    route('headers-only', SMALL),
    route('slow-answer', SMALL),
    route('short-content', SHORT_CONTENT),
    route('late-content', SHORT_CONTENT),
    route('thinking-gaps', '{firstByte: 1s, firstContent: 3s, idle: 100ms}'),
    route('idle-after-commit', '{firstByte: 300ms, firstContent: 3s, idle: 300ms}'),
  ].join('')}\n`);
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

/** The error of the route's failed try, as logged ("upstream attempt failed"). */
async function failedTry(routeName: string): Promise<string> {
  const line = await sidecar.waitForLog((l) => l.msg === 'upstream attempt failed' && l.route === routeName, 5000);
  expect(line).toMatchObject({ class: 'timeout', status: null });
  return String(line.error);
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

describe('idle bounds the gaps after the commit point; before it, firstContent does', () => {
  it('a stream whose keep-alives come 250 ms apart, above idle (100ms), is served (firstByte 1s, firstContent 3s): a model thinking between its first byte and its content is not cut by idle', async () => {
    primary.script({ kind: 'pings', everyMs: 250, replyAfterMs: 1000 });
    const { text, headers } = await streamText('thinking-gaps');
    expect(text).toBe('from primary');
    expect(headers.get('x-llmroute-target')).toBe('primary');
    expect(headers.get('x-llmroute-attempts')).toBe('1');
    expect(claude.requests).toHaveLength(0);
  });

  it('a committed stream that then stalls longer than idle ends with the timeout error event, naming idle', async () => {
    primary.script({ kind: 'stall', afterChunks: 1 });
    const { data } = await client.chat.completions.create({ model: 'idle-after-commit', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    let text = '';
    const err = await (async () => {
      try {
        for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(text.length).toBeGreaterThan(0);
    expect(err?.message).toMatch(/stalled longer than the idle timeout \(300ms\)/);
    expect(claude.requests).toHaveLength(0);
  });
});

describe('firstByte is a stream\'s liveness: any byte keeps it, until firstContent', () => {
  it('a stream that pings every 100 ms and sends its content after 1 s is served (firstByte 300ms, firstContent 3s)', async () => {
    primary.script({ kind: 'pings', everyMs: 100, replyAfterMs: 1000 });
    const [{ text, headers }, ms] = await timed(() => streamText('pings'));
    expect(text).toBe('from primary');
    expect(headers.get('x-llmroute-target')).toBe('primary');
    expect(headers.get('x-llmroute-attempts')).toBe('1');
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(claude.requests).toHaveLength(0);
  });

  it("the same with Anthropic's ping events (a Claude target)", async () => {
    claude.script({ kind: 'pings', everyMs: 100, replyAfterMs: 1000 });
    const { text, headers } = await streamText('claude-pings');
    expect(text).toBe('from claude');
    expect(headers.get('x-llmroute-target')).toBe('claude-first');
    expect(primary.requests).toHaveLength(0);
  });

  it('a provider that accepts the connection and sends nothing is left after firstByte', async () => {
    primary.script({ kind: 'hang' });
    const [{ text, headers }, ms] = await timed(() => streamText('silent'));
    expect(text).toBe('from claude');
    expect(headers.get('x-llmroute-fallbacks')).toBe('1');
    expect(ms).toBeLessThan(2000);
    expect(await failedTry('silent')).toMatch(/firstByte timeout \(300ms\)/);
  });

  it('a stream whose headers come and then no byte is left after firstByte, not after idle (30s)', async () => {
    primary.script({ kind: 'headers-then-stall' });
    const [{ text }, ms] = await timed(() => streamText('headers-only'));
    expect(text).toBe('from claude');
    expect(ms).toBeLessThan(2000);
    expect(await failedTry('headers-only')).toMatch(/^nothing from the provider before the firstByte timeout \(300ms\)$/);
  });

  it('a stream that pings but sends no content within firstContent falls back, naming firstContent', async () => {
    primary.script({ kind: 'pings', everyMs: 100, replyAfterMs: 2500 });
    const [{ text }, ms] = await timed(() => streamText('late-content'));
    expect(text).toBe('from claude');
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(2400);
    expect(await failedTry('late-content')).toMatch(/^no content before the firstContent timeout \(1s\)$/);
  });
});

describe('a non-stream answer arrives whole: firstContent bounds it, not firstByte', () => {
  it('an answer that takes 1 s (over firstByte 300ms) is served, one generation only', async () => {
    primary.script({ kind: 'ok', thinkMs: 1000 });
    const [{ data, response }, ms] = await timed(() => ask('slow-answer'));
    expect(data.choices[0]!.message.content).toBe('from primary');
    expect(response.headers.get('x-llmroute-attempts')).toBe('1');
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(primary.requests).toHaveLength(1);
    expect(claude.requests).toHaveLength(0);
  });

  it('an answer slower than firstContent falls back, naming firstContent', async () => {
    primary.script({ kind: 'ok', thinkMs: 2500 });
    const [{ data }, ms] = await timed(() => ask('short-content'));
    expect(data.choices[0]!.message.content).toBe('from claude');
    expect(ms).toBeLessThan(2400);
    expect(await failedTry('short-content')).toMatch(/^no answer before the firstContent timeout \(1s\)$/);
  });
});
