/**
 * Hedged requests and the retry budget (issue 13), through the real sidecar
 * against fake providers with scripted latencies: what the client sees
 * (the answer, the x-llmroute-* headers), what the providers see (the
 * loser's connection closed), and what the metrics say.
 */
import OpenAI from 'openai';
import { latencyDistribution, startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { askChat, streamChatText } from '../support/chat-client.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let primary: FakeProvider;
let backup: FakeProvider;
let sidecar: SidecarProcess;
let client: OpenAI;

const policy = `
  retry: {attempts: 1, backoff: {initial: 5ms, max: 20ms}}
  timeouts: {connect: 500ms, firstByte: 5s, total: 10s}`;

function route(name: string, extra: string): string {
  return `
- name: ${name}
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - {name: backup, provider: anthropic, baseURL: "${backup.url}", model: claude-sonnet-4-5, priority: 1, apiKey: {value: sk-backup}}
${policy}
${extra}`;
}

beforeAll(async () => {
  primary = await startFakeProvider({ flavor: 'openai', name: 'primary', text: 'from primary', chunks: 4 });
  backup = await startFakeProvider({ flavor: 'anthropic', name: 'backup', text: 'from backup', chunks: 4 });
  const routes = [
    route('hedged', '  hedge: {after: 200ms}'),
    route('hedged-stream', '  hedge: {after: 200ms}'),
    route('hedged-fast', '  hedge: {after: 200ms}'),
    route('hedged-tools', '  hedge: {after: 200ms, skipWithTools: true}'),
    route('hedged-fails', '  hedge: {after: 200ms}'),
    route('hedged-tail', '  hedge: {after: 300ms, budgetPercent: 100}'),
    route('plain', ''),
    route('no-budget', '  retryBudget: {percent: 0, minPerSecond: 0}'),
  ].join('');
  sidecar = await startSidecarProcess(`routes:${routes}`);
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([primary?.close(), backup?.close()]);
});

beforeEach(() => {
  primary.reset();
  backup.reset();
});

/** Waits until `check` holds (the provider sees a close a moment after the sidecar sends it). */
async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('hedged requests', () => {
  it('a slow primary is hedged on the backup after 200 ms: the backup answers, the primary is closed mid-think', async () => {
    primary.script({ kind: 'ok', thinkMs: 3000 });
    const started = Date.now();
    const { data, response } = await askChat(client, 'hedged');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(data.choices[0]!.message.content).toBe('from backup');
    expect(response.headers.get('x-llmroute-target')).toBe('backup');
    expect(response.headers.get('x-llmroute-hedges')).toBe('1');
    expect(response.headers.get('x-llmroute-attempts')).toBe('2');
    expect(response.headers.get('x-llmroute-fallbacks')).toBe('0');
    // The primary's request was aborted: its connection closed before it answered, so it stops generating.
    await eventually(() => primary.counts.abandoned === 1);
    expect(primary.counts.inFlight).toBe(0);
    expect(await sidecar.metric('llmroute_hedges_total', { route: 'hedged', target: 'backup', outcome: 'started' })).toBe(1);
    expect(await sidecar.metric('llmroute_hedges_total', { route: 'hedged', target: 'backup', outcome: 'won' })).toBe(1);
    expect(await sidecar.metric('llmroute_upstream_attempts_total', { route: 'hedged', target: 'primary', outcome: 'hedged-out' })).toBe(1);
    expect(await sidecar.metric('llmroute_hedge_wasted_tokens_total', { route: 'hedged', target: 'primary' })).toBeGreaterThan(0);
    // Aborted by a hedge is no failure: the primary's circuit stays closed with no failure counted.
    expect(await sidecar.metric('llmroute_circuit_state', { route: 'hedged', target: 'primary' })).toBe(0);
  });

  it('a stream whose first content is late is hedged too; the stream comes whole from the winner', async () => {
    primary.script({ kind: 'ok', thinkMs: 3000 });
    const { text, headers } = await streamChatText(client, 'hedged-stream');
    expect(text).toBe('from backup');
    expect(headers.get('x-llmroute-target')).toBe('backup');
    expect(headers.get('x-llmroute-hedges')).toBe('1');
    await eventually(() => primary.counts.abandoned === 1);
  });

  it('a primary that answers within `after` is not hedged', async () => {
    primary.script({ kind: 'ok', thinkMs: 20 });
    const { data, response } = await askChat(client, 'hedged-fast');
    expect(data.choices[0]!.message.content).toBe('from primary');
    expect(response.headers.get('x-llmroute-hedges')).toBe('0');
    expect(backup.counts.requests).toBe(0);
  });

  it('skipWithTools: a request offering tools is never hedged, however slow', async () => {
    primary.script({ kind: 'ok', thinkMs: 500, toolCall: true });
    const { data, response } = await client.chat.completions
      .create({ model: 'hedged-tools', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'pay', parameters: { type: 'object', properties: {} } } }] })
      .withResponse();
    const call = data.choices[0]!.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('pay');
    expect(response.headers.get('x-llmroute-target')).toBe('primary');
    expect(response.headers.get('x-llmroute-hedges')).toBeNull();
    expect(backup.counts.requests).toBe(0);
  });

  it('the primary failing while its hedge runs: the hedge answers, the primary is not retried', async () => {
    primary.script({ kind: 'status', status: 503, thinkMs: 400 });
    backup.script({ kind: 'ok', thinkMs: 600 });
    const { data, response } = await askChat(client, 'hedged-fails');
    expect(data.choices[0]!.message.content).toBe('from backup');
    expect(response.headers.get('x-llmroute-attempts')).toBe('2');
    expect(primary.counts.requests).toBe(1);
  });
});

describe('hedging a slow tail (a latency distribution)', () => {
  it('a primary with a 30 % tail of 1.5 s: no request waits for the tail, every slow draw is hedged and its try closed', async () => {
    // Seeded draws: the same requests are slow on every run.
    let x = 7;
    const rng = (): number => ((x = (x * 16807) % 2147483647) / 2147483647);
    primary.setBehaviour(latencyDistribution([{ share: 0.7, ms: 10 }, { share: 0.3, ms: 1500 }], rng));
    backup.setBehaviour(latencyDistribution([{ share: 1, ms: 10 }], rng));
    try {
      const times = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const t0 = Date.now();
          const { response } = await askChat(client, 'hedged-tail');
          return { ms: Date.now() - t0, target: response.headers.get('x-llmroute-target') };
        }),
      );
      const slow = primary.requests.filter((r) => (r.behaviour as { thinkMs?: number } | undefined)?.thinkMs === 1500).length;
      expect(slow).toBeGreaterThan(0);
      // No request waited for a slow draw (1.5 s). A fast draw slowed past `after` by a busy machine
      // may be hedged too, so the counts are at least the slow draws, not exactly them.
      expect(Math.max(...times.map((t) => t.ms))).toBeLessThan(1400);
      expect(times.filter((t) => t.target === 'backup').length).toBeGreaterThanOrEqual(slow);
      expect(await sidecar.metric('llmroute_hedges_total', { route: 'hedged-tail', outcome: 'started' })).toBeGreaterThanOrEqual(slow);
      await eventually(() => primary.counts.abandoned >= slow);
    } finally {
      primary.setBehaviour(undefined);
      backup.setBehaviour(undefined);
    }
  });
});

describe('the retry budget', () => {
  it('on by default, it does not bind: a 503 is retried on the same target', async () => {
    primary.script({ kind: 'status', status: 503 });
    const { data, response } = await askChat(client, 'plain');
    expect(data.choices[0]!.message.content).toBe('from primary');
    expect(response.headers.get('x-llmroute-attempts')).toBe('2');
    expect(await sidecar.metric('llmroute_retry_budget_exhausted_total', { route: 'plain' })).toBe(0);
  });

  it('spent: no retry and no backoff, the request moves on to the next target at once', async () => {
    primary.script({ kind: 'status', status: 503 });
    const { data, response } = await askChat(client, 'no-budget');
    expect(data.choices[0]!.message.content).toBe('from backup');
    expect(response.headers.get('x-llmroute-attempts')).toBe('2');
    expect(response.headers.get('x-llmroute-fallbacks')).toBe('1');
    expect(primary.counts.requests).toBe(1);
    expect(await sidecar.metric('llmroute_retry_budget_exhausted_total', { route: 'no-budget' })).toBe(1);
  });
});
