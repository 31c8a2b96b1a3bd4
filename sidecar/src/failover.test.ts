import type { AttemptInput, AttemptResult, Failure } from './attempt.ts';
import type { Route } from './config/runtime-config.ts';
import { AllTargetsFailedError, UnsupportedRequestError, UpstreamRejectedError } from './errors.ts';
import { runFailover, type FailoverRequest } from './failover.ts';
import { RoundRobinWeights } from './balancer.ts';
import { RouteBudgets } from './route-budgets.ts';
import { adapterFor } from './providers/index.ts';
import { SILENT_OBSERVER } from './request-observer.ts';
import { HealthRegistry } from './target-health.ts';
import { routeWith } from './testing/route.ts';

type Script = Record<string, Array<Partial<Failure> | 'ok'>>;

/** A fake clock and a scripted attempt function: each target answers from its own queue. */
function harness(route: Route, script: Script, budgets?: RouteBudgets) {
  let clock = 1_000_000;
  const calls: string[] = [];
  const sleeps: number[] = [];
  const health = new HealthRegistry();
  const weights = new RoundRobinWeights();
  const config = { listen: { host: '', port: 0 }, admin: { host: '', port: 0 }, routes: [route], models: new Map() };
  health.adopt(config);
  weights.adopt(config);
  const fallbacks: string[] = [];
  const denied: string[] = [];
  budgets?.adopt(config);
  const attempt = async (input: AttemptInput): Promise<AttemptResult> => {
    calls.push(input.target.name);
    const next = script[input.target.name]?.shift() ?? 'ok';
    if (next === 'ok') return { ok: true, kind: 'json', status: 200, body: '{}' };
    return { ok: false, failure: { errorClass: 'server-error', status: 500, message: 'boom', ...next } };
  };
  const run = (overrides: Partial<FailoverRequest> = {}) => {
    const controller = new AbortController();
    const req: FailoverRequest = {
      route,
      kind: 'chat',
      body: { model: 'r', messages: [] },
      stream: false,
      signal: controller.signal,
      deadlineAt: clock + route.timeouts.totalMs,
      attempts: [],
      fallbacks: 0,
      ...overrides,
    };
    const promise = runFailover(req, {
      health,
      weights,
      adapterFor,
      attempt,
      now: () => clock,
      random: () => 0.5,
      observer: { ...SILENT_OBSERVER, fellBack: (_r, from, to, reason) => fallbacks.push(`${from.name}->${to.name}:${reason}`), retryBudgetExhausted: (_r, t) => denied.push(t.name) },
      budgets,
    });
    return { req, promise, controller };
  };
  // Sleeps in runFailover use real timers; keep waits tiny by giving routes small backoffs.
  return { run, calls, sleeps, health, fallbacks, denied, advance: (ms: number) => (clock += ms), target: (n: string) => route.targets.find((t) => t.name === n)! };
}

const fast = 'retry: {attempts: 1, backoff: {initial: 1ms, max: 2ms}, retryAfterCap: 50ms}';
const two = ['{name: a, provider: openai, model: m}', '{name: b, provider: anthropic, model: m, priority: 1}'];

describe('runFailover: which errors do what (SPEC section 5)', () => {
  it('retries a server error once on the same target, then falls back', async () => {
    const h = harness(routeWith(two, fast), { a: [{}, {}] });
    const { req, promise } = h.run();
    const res = await promise;
    expect(res.target.name).toBe('b');
    expect(h.calls).toEqual(['a', 'a', 'b']);
    expect(req.fallbacks).toBe(1);
    expect(req.attempts.map((a) => a.class)).toEqual(['server-error', 'server-error', 'ok']);
    expect(h.fallbacks).toEqual(['a->b:server-error']);
  });

  it.each(['timeout', 'connection-error'] as const)('retries then falls back on %s', async (cls) => {
    const h = harness(routeWith(two, fast), { a: [{ errorClass: cls, status: null }, { errorClass: cls, status: null }] });
    expect((await h.run().promise).target.name).toBe('b');
    expect(h.calls).toEqual(['a', 'a', 'b']);
  });

  it('does not retry or fall back on a bad request: the error goes back to the client', async () => {
    const perr = { errorClass: 'bad-request' as const, status: 400, message: 'bad temperature', type: 'invalid_request_error', code: 'invalid_value', param: 'temperature' };
    const h = harness(routeWith(two, fast), { a: [{ errorClass: 'bad-request', status: 400, providerError: perr }] });
    const err = await h.run().promise.catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamRejectedError);
    expect(err).toMatchObject({ status: 400, param: 'temperature', errorCode: 'invalid_value' });
    expect(h.calls).toEqual(['a']);
  });

  it('on auth: no retry, opens the circuit at once, falls back', async () => {
    const h = harness(routeWith(two, fast), { a: [{ errorClass: 'auth', status: 401 }] });
    expect((await h.run().promise).target.name).toBe('b');
    expect(h.calls).toEqual(['a', 'b']);
    expect(h.health.get(h.target('a')).breaker.state).toBe('open');
  });

  it('context-window goes back to the client unless fallbackOn lists it', async () => {
    const cw = { errorClass: 'context-window' as const, status: 400 };
    const h1 = harness(routeWith(two, fast), { a: [cw] });
    await expect(h1.run().promise).rejects.toBeInstanceOf(UpstreamRejectedError);
    expect(h1.calls).toEqual(['a']);
    const h2 = harness(routeWith(two, `${fast}\n  fallbackOn: [context-window, server-error]`), { a: [cw] });
    expect((await h2.run().promise).target.name).toBe('b');
    expect(h2.calls).toEqual(['a', 'b']);
  });

  it('a class missing from fallbackOn stops at the first target', async () => {
    const h = harness(routeWith(two, `${fast}\n  fallbackOn: [rate-limit]`), { a: [{}, {}] });
    const err = await h.run().promise.catch((e) => e);
    expect(h.calls).toEqual(['a', 'a']);
    expect(err).toBeInstanceOf(AllTargetsFailedError);
  });

  it('honours a Retry-After within retryAfterCap: waits, retries the same target, and cools it down meanwhile', async () => {
    const h = harness(routeWith(two, fast), { a: [{ errorClass: 'rate-limit', status: 429, retryAfterMs: 20 }] });
    const started = Date.now();
    expect((await h.run().promise).target.name).toBe('a');
    expect(Date.now() - started).toBeGreaterThanOrEqual(18);
    expect(h.calls).toEqual(['a', 'a']);
    expect(h.health.get(h.target('a')).cooldownUntil).toBe(1_000_000 + 20);
  });

  it('a Retry-After longer than the cap moves on at once and cools the target down for all of it', async () => {
    const h = harness(routeWith(two, fast), { a: [{ errorClass: 'rate-limit', status: 429, retryAfterMs: 60_000 }] });
    expect((await h.run().promise).target.name).toBe('b');
    expect(h.calls).toEqual(['a', 'b']);
    expect(h.health.get(h.target('a')).cooldownUntil).toBe(1_000_000 + 60_000);
    // the next request skips the cooling target without trying it
    h.calls.length = 0;
    expect((await h.run().promise).target.name).toBe('b');
    expect(h.calls).toEqual(['b']);
  });

  it('answers 429 with Retry-After when every attempt was rate-limited', async () => {
    const rl = { errorClass: 'rate-limit' as const, status: 429, retryAfterMs: 30_000 };
    const h = harness(routeWith(two, fast), { a: [rl], b: [{ ...rl, retryAfterMs: 12_000 }] });
    const err = await h.run().promise.catch((e) => e);
    expect(err).toBeInstanceOf(AllTargetsFailedError);
    expect(err.reason).toBe('rate-limited');
    expect(err.retryAfterSeconds).toBe(12);
    expect(err.attempts).toEqual([
      { target: 'a', class: 'rate-limit', status: 429 },
      { target: 'b', class: 'rate-limit', status: 429 },
    ]);
  });

  it('answers 502 with every attempt listed when all targets fail', async () => {
    const h = harness(routeWith(two, fast), { a: [{}, {}], b: [{ errorClass: 'connection-error', status: null }, {}] });
    const err = await h.run().promise.catch((e) => e);
    expect(err.reason).toBe('failed');
    expect(err.attempts.map((a: { target: string; class: string }) => `${a.target}:${a.class}`)).toEqual(['a:server-error', 'a:server-error', 'b:connection-error', 'b:server-error']);
  });

  it('keeps retries inside the total deadline: no wait that would outlive it', async () => {
    const route = routeWith(two, 'retry: {attempts: 5, backoff: {initial: 10s, max: 10s}}\n  timeouts: {total: 1s}');
    const h = harness(route, { a: [{}, {}, {}], b: [{}, {}, {}] });
    const started = Date.now();
    const err = await h.run().promise.catch((e) => e);
    expect(Date.now() - started).toBeLessThan(500);
    // backoff (random 0.5 → 5 s) never fits in 1 s, so each target gets one try
    expect(h.calls).toEqual(['a', 'b']);
    expect(err).toBeInstanceOf(AllTargetsFailedError);
  });

  it('reports a deadline that ran out during a try as 504-worthy', async () => {
    const h = harness(routeWith(two, fast), { a: [{ errorClass: 'timeout', status: null, cause: 'deadline' }] });
    const err = await h.run().promise.catch((e) => e);
    expect(err.reason).toBe('deadline');
    expect(h.calls).toEqual(['a']);
  });
});

describe('runFailover: breaker and weights', () => {
  it('opens a target after consecutiveFailures and stops sending it traffic', async () => {
    const route = routeWith(two, 'retry: {attempts: 0}\n  circuitBreaker: {consecutiveFailures: 2, openFor: 1m}');
    const h = harness(route, { a: [{}, {}, {}, {}] });
    await h.run().promise;
    await h.run().promise;
    expect(h.health.get(h.target('a')).breaker.state).toBe('open');
    h.calls.length = 0;
    await h.run().promise;
    expect(h.calls).toEqual(['b']);
  });

  it('lets one probe through after openFor; its success closes the circuit', async () => {
    const route = routeWith(two, 'retry: {attempts: 0}\n  circuitBreaker: {consecutiveFailures: 1, openFor: 10s}');
    const h = harness(route, { a: [{}] });
    await h.run().promise;
    expect(h.health.get(h.target('a')).breaker.state).toBe('open');
    h.advance(10_000);
    h.calls.length = 0;
    expect((await h.run().promise).target.name).toBe('a');
    expect(h.health.get(h.target('a')).breaker.state).toBe('closed');
  });

  it('does not retry on a target whose circuit just opened', async () => {
    const route = routeWith(two, 'retry: {attempts: 3, backoff: {initial: 1ms, max: 1ms}}\n  circuitBreaker: {consecutiveFailures: 2, openFor: 1m}');
    const h = harness(route, { a: [{}, {}, {}, {}] });
    await h.run().promise;
    expect(h.calls).toEqual(['a', 'a', 'b']);
  });

  it('when every circuit is open, still tries the target that reopens soonest', async () => {
    const route = routeWith(two, 'retry: {attempts: 0}\n  circuitBreaker: {consecutiveFailures: 1, openFor: 1m}');
    const h = harness(route, { a: [{}], b: [{}] });
    await h.run().promise.catch(() => undefined);
    h.calls.length = 0;
    h.advance(1000);
    expect((await h.run().promise).target.name).toBe('a');
    expect(h.calls).toEqual(['a']);
  });

  it('splits traffic by weight within a priority', async () => {
    const route = routeWith(['{name: a, provider: openai, model: m, weight: 80}', '{name: b, provider: openai, model: m, weight: 20}']);
    const h = harness(route, {});
    const served: string[] = [];
    for (let i = 0; i < 100; i++) served.push((await h.run().promise).target.name);
    expect(served.filter((n) => n === 'a')).toHaveLength(80);
  });
});

describe('runFailover: a target that refuses a parameter (issue 10)', () => {
  const refusal = { errorClass: 'bad-request' as const, status: 400, message: '`temperature` is deprecated for this model.', refusedParam: 'temperature' };

  function refusing(route: Route) {
    const health = new HealthRegistry();
    const config = { listen: { host: '', port: 0 }, admin: { host: '', port: 0 }, routes: [route], models: new Map() };
    health.adopt(config);
    const sent: Array<[string, string[]]> = [];
    const learned: string[] = [];
    // Target a refuses temperature while it is sent; it answers once it is dropped.
    const attempt = async (input: AttemptInput): Promise<AttemptResult> => {
      sent.push([input.target.name, [...(input.refused ?? [])]]);
      if (input.target.name === 'a' && !input.refused?.has('temperature')) return { ok: false, failure: { ...refusal } };
      return { ok: true, kind: 'json', status: 200, body: '{}' };
    };
    const run = async (): Promise<FailoverRequest> => {
      const req: FailoverRequest = { route, kind: 'chat', body: { model: 'r', messages: [], temperature: 0 }, stream: false, signal: new AbortController().signal, deadlineAt: Date.now() + 10_000, attempts: [], fallbacks: 0 };
      await runFailover(req, { health, adapterFor, attempt, observer: { ...SILENT_OBSERVER, paramRefused: (_r, t, p) => learned.push(`${t.name}:${p}`) } });
      return req;
    };
    return { run, sent, learned, health, config };
  }

  it('tries the same target again at once without it, even with retry.attempts 0; both tries are recorded', async () => {
    const h = refusing(routeWith(two, 'retry: {attempts: 0}'));
    const req = await h.run();
    expect(h.sent).toEqual([['a', []], ['a', ['temperature']]]);
    expect(req.attempts).toEqual([{ target: 'a', class: 'bad-request', status: 400 }, { target: 'a', class: 'ok', status: 200 }]);
    expect(req.fallbacks).toBe(0);
    expect(h.learned).toEqual(['a:temperature']);
  });

  it('remembers it for the target: later requests drop it up front, and it is reported once', async () => {
    const h = refusing(routeWith(two, 'retry: {attempts: 0}'));
    await h.run();
    const later = await h.run();
    expect(later.attempts).toEqual([{ target: 'a', class: 'ok', status: 200 }]);
    expect(h.sent.slice(2)).toEqual([['a', ['temperature']]]);
    expect(h.learned).toEqual(['a:temperature']);
  });

  it('keeps what a target refused across a reload that leaves it unchanged, forgets it when its model changes', async () => {
    const route = routeWith(two);
    const h = refusing(route);
    await h.run();
    const a = route.targets[0]!;
    h.health.adopt(h.config);
    expect(h.health.get(a).refusedParams).toEqual(new Set(['temperature']));
    const changed = routeWith(['{name: a, provider: openai, model: m2}', '{name: b, provider: anthropic, model: m, priority: 1}']);
    h.health.adopt({ ...h.config, routes: [changed] });
    expect(h.health.get(changed.targets[0]!).refusedParams).toBeUndefined();
  });

  it('does not use up the retries a server error gets afterwards', async () => {
    const route = routeWith(two, fast);
    const h = harness(route, { a: [{ ...refusal }, {}, 'ok'] });
    const { req, promise } = h.run();
    expect((await promise).target.name).toBe('a');
    expect(req.attempts.map((x) => x.class)).toEqual(['bad-request', 'server-error', 'ok']);
  });
});

describe('runFailover: targets that cannot serve the request are skipped, not answered with a 400', () => {
  const cannot = { errorClass: 'bad-request' as const, status: 400, message: 'n > 1 is not supported by anthropic targets (one choice per request)', unsupported: true };

  it('a backup whose adapter cannot express the request is skipped: the outage stays an all_targets_failed with both named', async () => {
    const h = harness(routeWith(two, 'retry: {attempts: 0}'), { a: [{ status: 503 }], b: [cannot] });
    const { req, promise } = h.run();
    await expect(promise).rejects.toBeInstanceOf(AllTargetsFailedError);
    expect(req.attempts).toEqual([
      { target: 'a', class: 'server-error', status: 503 },
      { target: 'b', class: 'unsupported', status: null, detail: cannot.message },
    ]);
    // Nothing was sent to b: its breaker is untouched.
    expect(h.health.get(h.target('b')).breaker.failures).toBe(0);
  });

  it('a primary that cannot is skipped and the backup serves, with no fallback counted', async () => {
    const h = harness(routeWith(['{name: a, provider: anthropic, model: m}', '{name: b, provider: openai, model: m, priority: 1}'], 'retry: {attempts: 0}'), { a: [cannot] });
    const { req, promise } = h.run();
    expect((await promise).target.name).toBe('b');
    expect(req.fallbacks).toBe(0);
    expect(req.attempts.map((a) => a.class)).toEqual(['unsupported', 'ok']);
  });

  it('when no target of the route can: the 400 names what and which targets', async () => {
    const h = harness(routeWith(['{name: a, provider: anthropic, model: m}', '{name: b, provider: anthropic, model: m, priority: 1}'], 'retry: {attempts: 0}'), { a: [cannot], b: [cannot] });
    const err = await h.run().promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedRequestError);
    expect((err as UnsupportedRequestError).message).toBe(`route 'r' has no target that can serve this request: ${cannot.message} (targets: a, b)`);
  });

  it('a skipped half-open target gives its probe back', async () => {
    const h = harness(routeWith(two, 'retry: {attempts: 0}\n  circuitBreaker: {consecutiveFailures: 1, openFor: 1s}'), { a: [{ status: 503 }, cannot] });
    await h.run().promise;
    expect(h.health.get(h.target('a')).breaker.state).toBe('open');
    h.advance(1_000);
    await h.run().promise;
    const b = h.health.get(h.target('a')).breaker;
    expect(b.state).toBe('half-open');
    expect(b.canPass(h.advance(0))).toBe(true);
  });
});

describe('runFailover: the retry budget (issue 13)', () => {
  const three = [...two, '{name: c, provider: openai, model: m, priority: 2}'];
  const tight = `${fast}\n  retryBudget: {percent: 0, minPerSecond: 0}\n  circuitBreaker: {consecutiveFailures: 100, openFor: 1s}`;

  it('with the budget spent, a failed try is not retried: one try per target, in priority order, no wait', async () => {
    const h = harness(routeWith(three, tight), { a: [{}, {}], b: [{}, {}] }, new RouteBudgets());
    const { req, promise } = h.run();
    expect((await promise).target.name).toBe('c');
    expect(h.calls).toEqual(['a', 'b', 'c']);
    expect(req.fallbacks).toBe(2);
    expect(h.denied).toEqual(['a', 'b']);
  });

  it('the defaults never bind at normal failure rates: retries happen as before', async () => {
    const budgets = new RouteBudgets();
    const h = harness(routeWith(two, fast), {}, budgets);
    for (let i = 0; i < 50; i++) await h.run().promise;
    // One request in ten fails once, well inside 20 % of the requests.
    for (let i = 0; i < 10; i++) {
      const one = harness(routeWith(two, fast), { a: [{}] }, budgets);
      const { promise } = one.run();
      expect((await promise).target.name).toBe('a');
      expect(one.calls).toEqual(['a', 'a']);
      expect(one.denied).toEqual([]);
    }
  });

  it('retries and fallbacks share it: fallbacks spend it too (even past it) and retries stop once they have', async () => {
    // 10 % of requests, no reserve. An extra try fits while those of the window are fewer than 10 % of its requests.
    const budgets = new RouteBudgets();
    const route = routeWith(three, `${fast}\n  retryBudget: {percent: 10, minPerSecond: 0}\n  circuitBreaker: {consecutiveFailures: 100, openFor: 1s}`);
    const h = harness(route, {}, budgets);
    for (let i = 0; i < 10; i++) await h.run().promise;
    // Two auth failures fall back at once, twice: 2 extra tries for 11 requests, past the 1.1 the budget has.
    const failing = harness(route, { a: [{ errorClass: 'auth', status: 401 }], b: [{ errorClass: 'auth', status: 401 }] }, budgets);
    expect((await failing.run().promise).target.name).toBe('c');
    expect(failing.calls).toEqual(['a', 'b', 'c']);
    const next = harness(route, { a: [{}] }, budgets);
    expect((await next.run().promise).target.name).toBe('b');
    expect(next.calls).toEqual(['a', 'b']);
    expect(next.denied).toEqual(['a']);
  });

  it('without budgets (no RouteBudgets given) nothing is budgeted', async () => {
    const h = harness(routeWith(two, tight), { a: [{}, {}] });
    expect((await h.run().promise).target.name).toBe('b');
    expect(h.calls).toEqual(['a', 'a', 'b']);
  });
});

describe('runFailover: picking (rate-limit headers, latency, affinity)', () => {
  const pair = ['{name: a, provider: openai, model: m}', '{name: b, provider: openai, model: m}'];

  function picking(route: Route, headersOf: (target: string) => Record<string, string> | undefined) {
    let clock = Date.parse('2026-12-01T16:00:00Z');
    const health = new HealthRegistry();
    const weights = new RoundRobinWeights();
    const config = { listen: { host: '', port: 0 }, admin: { host: '', port: 0 }, routes: [route], models: new Map() };
    health.adopt(config);
    weights.adopt(config);
    const events: string[] = [];
    const inflightSeen: number[] = [];
    const attempt = async (input: AttemptInput): Promise<AttemptResult> => {
      inflightSeen.push(health.get(input.target).inflight);
      return { ok: true, kind: 'json', status: 200, body: '{}', headers: headersOf(input.target.name) };
    };
    const observer = {
      ...SILENT_OBSERVER,
      rateLimitShifted: (_r: Route, t: { name: string }, ms: number) => events.push(`shift ${t.name} ${ms}`),
      affinity: (_r: Route, outcome: string) => events.push(`affinity ${outcome}`),
    };
    const run = async (extra: Partial<FailoverRequest> = {}) =>
      (await runFailover({ route, kind: 'chat', body: {}, stream: false, signal: new AbortController().signal, deadlineAt: clock + 60_000, attempts: [], fallbacks: 0, ...extra }, { health, weights, adapterFor, attempt, observer, now: () => clock, random: () => 0.5 })).target.name;
    return { run, health, events, inflightSeen, advance: (ms: number) => (clock += ms), target: (n: string) => route.targets.find((t) => t.name === n)! };
  }

  it("a committed answer's rate-limit headers move its target behind its peer until the reset (once per shift)", async () => {
    const near = { 'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': '2s' };
    const h = picking(routeWith(pair), (t) => (t === 'a' ? near : { 'x-request-id': 'req_1' }));
    expect(await h.run()).toBe('a');
    expect(h.events).toEqual(['shift a 2000']);
    expect(h.health.get(h.target('a')).nearLimitUntil).toBe(h.advance(0) + 2000);
    expect([await h.run(), await h.run(), await h.run()]).toEqual(['b', 'b', 'b']);
    h.advance(2000);
    // back in the rotation (the round robin's running weights decide which comes first)
    expect([await h.run(), await h.run()].sort()).toEqual(['a', 'b']);
    expect(h.events).toEqual(['shift a 2000', 'shift a 2000']);
    // the try is counted in flight while it runs, and not after
    expect(h.inflightSeen.every((n) => n === 1)).toBe(true);
    expect(h.health.get(h.target('a')).inflight).toBe(0);
  });

  it('rateLimitAware: {enabled: false} reads no header and counts nothing in flight', async () => {
    const near = { 'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '2s' };
    const h = picking(routeWith(pair, 'rateLimitAware: {enabled: false}'), () => near);
    expect([await h.run(), await h.run(), await h.run()]).toEqual(['a', 'b', 'a']);
    expect(h.events).toEqual([]);
    expect(h.inflightSeen.every((n) => n === 0)).toBe(true);
  });

  it('affinity: the outcome of each request is reported; a key always lands on its target', async () => {
    const h = picking(routeWith(pair, 'affinity: {key: user}'), () => undefined);
    const first = await h.run({ affinityHash: 99 });
    expect(await h.run({ affinityHash: 99 })).toBe(first);
    await h.run();
    expect(h.events).toEqual(['affinity hit', 'affinity hit', 'affinity nokey']);
  });
});
