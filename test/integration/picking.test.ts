/**
 * Picking among the healthy targets of a priority (issue 13), the real
 * sidecar against fake providers: rate-limit-aware shifts from the headers
 * of a fake that enforces a real limit, least-latency balancing against
 * scripted latency distributions, and prompt-cache affinity across the
 * Chat, Responses and Messages APIs.
 */
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let fakes: Record<string, FakeProvider>;
let sidecar: SidecarProcess;
/** The outlier test turns e3 slow. */
let e3Slow = false;

const policy = `
  retry: {attempts: 0}
  circuitBreaker: {consecutiveFailures: 1, openFor: 30s}`;

const openai = (name: string, extra = '') => `{name: ${name}, provider: openai, baseURL: "${fakes[name]!.url}", model: gpt-4o-mini, apiKey: {value: sk-x}${extra}}`;
const claude = (name: string, extra = '') => `{name: ${name}, provider: anthropic, baseURL: "${fakes[name]!.url}", model: claude-sonnet-4-5, apiKey: {value: sk-x}${extra}}`;

/** A seeded random source, so the scripted latencies are the same every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

beforeAll(async () => {
  const start = (name: string, o: Partial<Parameters<typeof startFakeProvider>[0]> & { flavor?: 'openai' | 'anthropic' } = {}) => startFakeProvider({ flavor: 'openai', name, text: `from ${name}`, ...o });
  const fast = lcg(1);
  const slow = lcg(2);
  fakes = {
    // rate limits: 10 requests per minute on the first target of each pair
    rlA: await start('rlA', { rateLimit: { requests: 10, windowMs: 60_000 } }),
    rlB: await start('rlB'),
    offA: await start('offA', { rateLimit: { requests: 10, windowMs: 60_000 } }),
    offB: await start('offB'),
    anA: await start('anA', { flavor: 'anthropic', rateLimit: { requests: 10, windowMs: 60_000 } }),
    anB: await start('anB', { flavor: 'anthropic' }),
    only: await start('only', { rateLimit: { requests: 3, windowMs: 60_000 } }),
    // latency: 5-15 ms against 150-250 ms before the first content
    fast: await start('fast', { behaviour: () => ({ kind: 'ok', thinkMs: 5 + fast() * 10 }) }),
    slow: await start('slow', { behaviour: () => ({ kind: 'ok', thinkMs: 150 + slow() * 100 }) }),
    // outliers: three fast, then e3 turns slow
    e1: await start('e1', { behaviour: () => ({ kind: 'ok', thinkMs: 5 }) }),
    e2: await start('e2', { behaviour: () => ({ kind: 'ok', thinkMs: 5 }) }),
    e3: await start('e3', { behaviour: () => ({ kind: 'ok', thinkMs: e3Slow ? 250 : 5 }) }),
    // affinity
    c1: await start('c1', { promptCache: { minTokens: 1 } }),
    c2: await start('c2', { promptCache: { minTokens: 1 } }),
    c3: await start('c3', { promptCache: { minTokens: 1 } }),
    m1: await start('m1', { flavor: 'anthropic' }),
    m2: await start('m2', { flavor: 'anthropic' }),
    m3: await start('m3', { flavor: 'anthropic' }),
  };
  sidecar = await startSidecarProcess(`routes:
- name: rl
  targets: [${openai('rlA')}, ${openai('rlB')}]
${policy}
- name: rl-off
  rateLimitAware: {enabled: false}
  targets: [${openai('offA')}, ${openai('offB')}]
${policy}
- name: rl-anthropic
  targets: [${claude('anA')}, ${claude('anB')}]
${policy}
- name: rl-only
  targets: [${openai('only')}]
${policy}
- name: ll
  balancing: least-latency
  targets: [${openai('fast')}, ${openai('slow')}]
${policy}
- name: outlier
  balancing: least-latency
  latency: {halfLife: 100ms, outlierRatio: 3, ejectFor: 30s, minRequests: 1}
  targets: [${openai('e1')}, ${openai('e2')}, ${openai('e3')}]
${policy}
- name: aff
  affinity: {key: header}
  targets: [${openai('c1')}, ${openai('c2')}, ${openai('c3')}]
${policy}
- name: aff-user
  affinity: {key: user}
  targets: [${claude('m1')}, ${claude('m2')}, ${claude('m3')}]
${policy}
`);
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all(Object.values(fakes ?? {}).map((f) => f.close()));
});

async function post(path: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; target: string | null; json: any }> {
  const res = await fetch(`${sidecar.baseURL}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, target: res.headers.get('x-llmroute-target'), json: await res.json().catch(() => undefined) };
}
const chat = (model: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  post('/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], ...extra }, headers);

describe('rate-limit-aware picking', () => {
  it('moves a target near its limit to its peer before it answers 429 (OpenAI headers)', async () => {
    const served: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const r = await chat('rl');
      expect(r.status).toBe(200);
      served[r.target!] = (served[r.target!] ?? 0) + 1;
    }
    // rlA took its 10 and was moved back on the answer that said 0 remain: no 429 at all
    expect(fakes.rlA!.counts.byOutcome['rate-limited'] ?? 0).toBe(0);
    expect(served).toEqual({ rlA: 10, rlB: 30 });
    expect(await sidecar.metric('llmroute_ratelimit_shifts_total', { route: 'rl', target: 'rlA' })).toBe(1);
  });

  it('without it, the target answers a 429 (which the sidecar fails over, then cools the target down for its Retry-After)', async () => {
    for (let i = 0; i < 40; i++) expect((await chat('rl-off')).status).toBe(200);
    expect(fakes.offA!.counts.byOutcome['rate-limited']).toBe(1);
    expect(await sidecar.metric('llmroute_fallbacks_total', { route: 'rl-off', reason: 'rate-limit' })).toBe(1);
    expect(await sidecar.metric('llmroute_ratelimit_shifts_total', { route: 'rl-off' })).toBe(0);
  });

  it('reads the anthropic-ratelimit-* headers with their RFC 3339 resets', async () => {
    for (let i = 0; i < 30; i++) {
      const r = await post('/chat/completions', { model: 'rl-anthropic', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
      expect(r.status).toBe(200);
    }
    expect(fakes.anA!.counts.byOutcome['rate-limited'] ?? 0).toBe(0);
    expect(fakes.anA!.counts.byOutcome['ok']).toBe(10);
    expect(await sidecar.metric('llmroute_ratelimit_shifts_total', { route: 'rl-anthropic', target: 'anA' })).toBe(1);
  });

  it('never skips the only target of a priority: it is still tried, and its 429 is the answer', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat('rl-only')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(fakes.only!.counts.byOutcome['rate-limited']).toBe(1);
  });
});

describe('balancing: least-latency', () => {
  it('sends streams to the target with the lower time to first content; the averages are a metric', async () => {
    const served: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${sidecar.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'll', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
      const t = res.headers.get('x-llmroute-target')!;
      served[t] = (served[t] ?? 0) + 1;
    }
    // each is measured once (an unknown target costs just under the lowest known), then the fast one wins every draw
    expect(served.slow ?? 0).toBe(1);
    expect(served.fast).toBe(29);
    const fastS = await sidecar.metric('llmroute_target_latency_ewma_seconds', { route: 'll', target: 'fast', kind: 'stream' });
    const slowS = await sidecar.metric('llmroute_target_latency_ewma_seconds', { route: 'll', target: 'slow', kind: 'stream' });
    expect(fastS).toBeGreaterThan(0);
    expect(slowS).toBeGreaterThan(fastS * 5);
  });
});

describe('outlier ejection', () => {
  it('ejects a target whose latency turns far above its peers, and sends it nothing first while ejected', async () => {
    // Unknown targets are tried first, so all three are measured at once.
    const warm = new Set<string>();
    for (let i = 0; i < 30; i++) warm.add((await chat('outlier')).target!);
    expect(warm.size).toBe(3);
    e3Slow = true;
    try {
      // e3 gets a request when it wins a draw, or when its average goes stale (5 half-lives, 500 ms)
      // while its peers', kept fresh by the traffic, are not: its slow answer then ejects it.
      const until = Date.now() + 5000;
      while (Date.now() < until && (await sidecar.metric('llmroute_outlier_ejections_total', { route: 'outlier', target: 'e3' })) === 0) await chat('outlier');
      expect(await sidecar.metric('llmroute_outlier_ejections_total', { route: 'outlier', target: 'e3' })).toBe(1);
      const line = await sidecar.waitForLog((l) => l.msg === 'target ejected as a latency outlier');
      expect(line).toMatchObject({ route: 'outlier', target: 'e3', ms: 30_000 });
      const before = fakes.e3!.counts.requests;
      for (let i = 0; i < 20; i++) expect((await chat('outlier')).target).not.toBe('e3');
      expect(fakes.e3!.counts.requests).toBe(before);
    } finally {
      e3Slow = false;
    }
  });
});

describe('prompt-cache affinity', () => {
  it('keeps each session on one target and its prompt cache warm; sessions spread over the targets', async () => {
    const bySession = new Map<string, Set<string>>();
    let cached = 0;
    let prompt = 0;
    for (let round = 0; round < 4; round++) {
      for (let s = 0; s < 12; s++) {
        const r = await chat('aff', { 'x-llmroute-session': `session-${s}` }, { messages: [{ role: 'system', content: `You are assistant number ${s}.` }, { role: 'user', content: `question ${round}` }] });
        expect(r.status).toBe(200);
        (bySession.get(`session-${s}`) ?? bySession.set(`session-${s}`, new Set()).get(`session-${s}`)!).add(r.target!);
        if (round > 0) {
          cached += r.json.usage.prompt_tokens_details.cached_tokens;
          prompt += r.json.usage.prompt_tokens;
        }
      }
    }
    for (const targets of bySession.values()) expect(targets.size).toBe(1);
    expect(new Set([...bySession.values()].map((t) => [...t][0])).size).toBeGreaterThan(1);
    expect(cached / prompt).toBeGreaterThan(0.3);
    expect(await sidecar.metric('llmroute_affinity_requests_total', { route: 'aff', outcome: 'hit' })).toBe(48);
    // a request without the header: balanced as usual, counted apart
    expect((await chat('aff')).status).toBe(200);
    expect(await sidecar.metric('llmroute_affinity_requests_total', { route: 'aff', outcome: 'nokey' })).toBe(1);
  });

  it('health wins: the sessions of a failing target move to their next target; the others stay', async () => {
    const home = new Map<number, string>();
    for (let s = 0; s < 12; s++) home.set(s, (await chat('aff', { 'x-llmroute-session': `h-${s}` })).target!);
    const down = home.get(0)!;
    fakes[down]!.setBehaviour({ kind: 'status', status: 503 });
    try {
      // the first request to it fails over and opens its circuit (consecutiveFailures: 1)
      for (let s = 0; s < 12; s++) {
        const r = await chat('aff', { 'x-llmroute-session': `h-${s}` });
        expect(r.status).toBe(200);
        if (home.get(s) === down) expect(r.target).not.toBe(down);
        else expect(r.target).toBe(home.get(s));
      }
      expect(await sidecar.metric('llmroute_affinity_requests_total', { route: 'aff', outcome: 'moved' })).toBeGreaterThanOrEqual(1);
    } finally {
      fakes[down]!.setBehaviour(undefined);
    }
  });

  it('key: user reads Messages metadata.user_id and Responses/Chat prompt_cache_key, whichever API the client spoke', async () => {
    const viaMessages = new Set<string>();
    const viaChat = new Set<string>();
    const viaResponses = new Set<string>();
    for (let i = 0; i < 5; i++) {
      viaMessages.add((await post('/messages', { model: 'aff-user', max_tokens: 16, metadata: { user_id: 'user-7' }, messages: [{ role: 'user', content: `m${i}` }] })).target!);
      viaChat.add((await post('/chat/completions', { model: 'aff-user', max_tokens: 16, prompt_cache_key: 'user-7', messages: [{ role: 'user', content: `c${i}` }] })).target!);
      viaResponses.add((await post('/responses', { model: 'aff-user', max_output_tokens: 16, prompt_cache_key: 'user-7', input: `r${i}` })).target!);
    }
    expect(viaMessages.size).toBe(1);
    // one key, one target, whichever API carried it
    expect(viaChat).toEqual(viaMessages);
    expect(viaResponses).toEqual(viaMessages);
  });
});
