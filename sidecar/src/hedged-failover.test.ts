import type { AttemptInput, AttemptResult, Failure } from './attempt.ts';
import type { Route } from './config/runtime-config.ts';
import { AllTargetsFailedError, UpstreamRejectedError } from './errors.ts';
import { runFailover, type FailoverRequest, type HedgeTimers } from './failover.ts';
import { promptTokensEstimate } from './hedged-failover.ts';
import { RoundRobinWeights } from './balancer.ts';
import { adapterFor } from './providers/index.ts';
import { SILENT_OBSERVER, type RequestObserver } from './request-observer.ts';
import { RouteBudgets } from './route-budgets.ts';
import { HealthRegistry } from './target-health.ts';
import { routeWith } from './testing/route.ts';

/** One try in flight: the test settles it, or its lane's signal aborts it as attempt() would. */
interface Pending {
  target: string;
  signal: AbortSignal;
  settle: (r: AttemptResult) => void;
}

const OK: AttemptResult = { ok: true, kind: 'json', status: 200, body: '{}' };
const failed = (f: Partial<Failure> = {}): AttemptResult => ({ ok: false, failure: { errorClass: 'server-error', status: 500, message: 'boom', ...f } });

/** A hand-driven clock and timers, and an attempt function whose tries the test answers one by one. */
function harness(route: Route, o: { budgets?: boolean } = {}) {
  let clock = 1_000_000;
  const tries: Pending[] = [];
  const timers: Array<{ fn: () => void; at: number; live: boolean }> = [];
  const events: string[] = [];
  const wasted: number[] = [];
  const health = new HealthRegistry();
  const weights = new RoundRobinWeights();
  const budgets = new RouteBudgets();
  const config = { listen: { host: '', port: 0 }, admin: { host: '', port: 0 }, routes: [route], models: new Map() };
  health.adopt(config);
  weights.adopt(config);
  budgets.adopt(config);
  const fakeTimers: HedgeTimers = {
    set: (fn, ms) => {
      const t = { fn, at: clock + ms, live: true };
      timers.push(t);
      return t;
    },
    clear: (t) => void ((t as { live: boolean }).live = false),
  };
  const attempt = (input: AttemptInput): Promise<AttemptResult> =>
    new Promise((resolve) => {
      let done = false;
      const settle = (r: AttemptResult): void => {
        if (done) return;
        done = true;
        resolve(r);
      };
      const p: Pending = { target: input.target.name, signal: input.signal, settle };
      tries.push(p);
      const onAbort = (): void => {
        const reason = input.signal.reason as string;
        settle(failed({ errorClass: 'timeout', status: null, cause: reason === 'hedged-out' || reason === 'client-closed' || reason === 'deadline' ? reason : undefined }));
      };
      if (input.signal.aborted) onAbort();
      else input.signal.addEventListener('abort', onAbort, { once: true });
    });
  const observer: RequestObserver = {
    ...SILENT_OBSERVER,
    hedge: (_r, t, outcome) => events.push(`hedge ${outcome}${t ? ` ${t.name}` : ''}`),
    hedgeWasted: (_r, t, n) => {
      events.push(`wasted ${t.name}`);
      wasted.push(n);
    },
    fellBack: (_r, from, to) => events.push(`fallback ${from.name}->${to.name}`),
    retryBudgetExhausted: (_r, t) => events.push(`budget ${t.name}`),
  };
  const run = (overrides: Partial<FailoverRequest> = {}) => {
    const controller = new AbortController();
    const req: FailoverRequest = { route, kind: 'chat', body: { model: 'r', messages: [{ role: 'user', content: 'x'.repeat(400) }] }, stream: false, signal: controller.signal, deadlineAt: clock + route.timeouts.totalMs, attempts: [], fallbacks: 0, ...overrides };
    const promise = runFailover(req, { health, weights, adapterFor, attempt, observer, timers: fakeTimers, now: () => clock, random: () => 0.5, ...(o.budgets === false ? {} : { budgets }) });
    return { req, promise, controller };
  };
  /** Moves the clock on and fires the timers that came due. */
  const advance = async (ms: number): Promise<void> => {
    clock += ms;
    for (const t of timers) {
      if (t.live && t.at <= clock) {
        t.live = false;
        t.fn();
      }
    }
    await flush();
  };
  return { run, tries, timers, events, wasted, health, budgets, advance, target: (n: string) => route.targets.find((t) => t.name === n)! };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

const three = ['{name: a, provider: openai, model: m}', '{name: b, provider: openai, model: m, priority: 1}', '{name: c, provider: openai, model: m, priority: 2}'];
const fast = 'retry: {attempts: 1, backoff: {initial: 1ms, max: 2ms}}';
const hedged = (extra = '') => routeWith(three, `${fast}\n  hedge: {after: 2s${extra}}`);

describe('hedged requests (issue 13)', () => {
  it('a first try with no answer after `after` is hedged on the next target; the hedge wins and the first is aborted, not failed', async () => {
    const h = harness(hedged());
    const { req, promise } = h.run();
    await flush();
    expect(h.tries.map((t) => t.target)).toEqual(['a']);
    await h.advance(1999);
    expect(h.tries).toHaveLength(1);
    await h.advance(1);
    expect(h.tries.map((t) => t.target)).toEqual(['a', 'b']);
    h.tries[1]!.settle(OK);
    const res = await promise;
    expect(res.target.name).toBe('b');
    // The loser's own signal was aborted (undici closes its connection); the winner's was not.
    expect(h.tries[0]!.signal.aborted).toBe(true);
    expect(h.tries[0]!.signal.reason).toBe('hedged-out');
    expect(h.tries[1]!.signal.aborted).toBe(false);
    expect(req.attempts).toEqual([
      { target: 'b', class: 'ok', status: 200 },
      { target: 'a', class: 'hedged-out', status: null },
    ]);
    expect(req.hedges).toBe(1);
    expect(req.fallbacks).toBe(0);
    expect(h.events).toEqual(['hedge started b', 'wasted a', 'hedge won b']);
    expect(h.wasted[0]).toBeGreaterThanOrEqual(100);
    // Being hedged out is no failure for a's breaker.
    expect(h.health.get(h.target('a')).breaker.failures).toBe(0);
    expect(h.timers.filter((t) => t.live)).toHaveLength(0);
  });

  it('a first try that answers in time is not hedged, and its timer is cleared', async () => {
    const h = harness(hedged());
    const { req, promise } = h.run();
    await flush();
    h.tries[0]!.settle(OK);
    expect((await promise).target.name).toBe('a');
    expect(h.timers.filter((t) => t.live)).toHaveLength(0);
    expect(req.hedges).toBe(0);
    expect(req.attempts).toEqual([{ target: 'a', class: 'ok', status: 200 }]);
  });

  it('the first try winning after the hedge started: the hedge is aborted and lost', async () => {
    const h = harness(hedged());
    const { req, promise } = h.run();
    await h.advance(2000);
    h.tries[0]!.settle(OK);
    expect((await promise).target.name).toBe('a');
    expect(h.tries[1]!.signal.reason).toBe('hedged-out');
    expect(req.attempts.map((a) => `${a.target}:${a.class}`)).toEqual(['a:ok', 'b:hedged-out']);
    expect(h.events).toEqual(['hedge started b', 'wasted b', 'hedge lost b']);
  });

  it('the first try failing while the hedge runs: no retry, no third target; the hedge goes on as its fallback', async () => {
    const h = harness(hedged());
    const { req, promise } = h.run();
    await h.advance(2000);
    h.tries[0]!.settle(failed());
    await flush();
    expect(h.tries.map((t) => t.target)).toEqual(['a', 'b']);
    h.tries[1]!.settle(OK);
    expect((await promise).target.name).toBe('b');
    expect(req.attempts.map((a) => `${a.target}:${a.class}`)).toEqual(['a:server-error', 'b:ok']);
    expect(h.health.get(h.target('a')).breaker.failures).toBe(1);
  });

  it('the hedge failing while the first try runs: the first try, now the last one running, falls back to the next target', async () => {
    const h = harness(hedged());
    const { req, promise } = h.run();
    await h.advance(2000);
    h.tries[1]!.settle(failed({ errorClass: 'auth', status: 401 }));
    await flush();
    expect(h.tries).toHaveLength(2);
    h.tries[0]!.settle(failed({ errorClass: 'auth', status: 401 }));
    await flush();
    expect(h.tries.map((t) => t.target)).toEqual(['a', 'b', 'c']);
    h.tries[2]!.settle(OK);
    expect((await promise).target.name).toBe('c');
    expect(req.fallbacks).toBe(1);
    expect(h.events).toContain('fallback a->c');
  });

  it('maxExtra 2: a second hedge `after` later on the target after that', async () => {
    // Without a budget: the route's hedge budget would deny the second hedge of a lone request.
    const h = harness(hedged(', maxExtra: 2'), { budgets: false });
    const { req, promise } = h.run();
    await h.advance(2000);
    await h.advance(2000);
    expect(h.tries.map((t) => t.target)).toEqual(['a', 'b', 'c']);
    h.tries[2]!.settle(OK);
    expect((await promise).target.name).toBe('c');
    expect(req.hedges).toBe(2);
    expect(req.attempts.map((a) => `${a.target}:${a.class}`)).toEqual(['c:ok', 'a:hedged-out', 'b:hedged-out']);
  });

  it("a provider's error ends the request for every try: the other is aborted", async () => {
    const h = harness(hedged());
    const { req, promise } = h.run();
    await h.advance(2000);
    const perr = { errorClass: 'bad-request' as const, status: 400, message: 'bad', type: 'invalid_request_error', code: null, param: null };
    h.tries[1]!.settle(failed({ errorClass: 'bad-request', status: 400, providerError: perr }));
    await expect(promise).rejects.toBeInstanceOf(UpstreamRejectedError);
    expect(h.tries[0]!.signal.reason).toBe('hedged-out');
    expect(req.attempts.map((a) => `${a.target}:${a.class}`)).toEqual(['b:bad-request', 'a:hedged-out']);
  });

  it('every try failing: the request fails as the plain loop would (502, every try listed)', async () => {
    const h = harness(hedged());
    const { req, promise } = h.run();
    await h.advance(2000);
    h.tries[0]!.settle(failed({ errorClass: 'auth', status: 401 }));
    h.tries[1]!.settle(failed({ errorClass: 'auth', status: 401 }));
    await flush();
    h.tries[2]!.settle(failed({ errorClass: 'auth', status: 401 }));
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllTargetsFailedError);
    expect((err as AllTargetsFailedError).reason).toBe('failed');
    expect(req.attempts).toHaveLength(3);
  });

  it('the client leaving aborts every try', async () => {
    const h = harness(hedged());
    const { promise, controller } = h.run();
    await h.advance(2000);
    controller.abort('client-closed');
    await expect(promise).rejects.toMatchObject({ code: 'client_closed' });
    expect(h.tries.every((t) => t.signal.aborted)).toBe(true);
  });

  it('the total deadline ends every try: 504-worthy, whatever lane saw it', async () => {
    const h = harness(hedged());
    const { promise, controller } = h.run();
    await h.advance(2000);
    controller.abort('deadline');
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllTargetsFailedError);
    expect((err as AllTargetsFailedError).reason).toBe('deadline');
    expect(h.tries.every((t) => t.signal.aborted)).toBe(true);
  });

  it('no hedge once the deadline has passed', async () => {
    const h = harness(routeWith(three, `${fast}\n  hedge: {after: 2s}\n  timeouts: {total: 1s}`));
    const { promise, controller } = h.run();
    await h.advance(2000);
    expect(h.tries).toHaveLength(1);
    controller.abort('deadline');
    await expect(promise).rejects.toBeInstanceOf(AllTargetsFailedError);
  });

  it('a half-open probe the loser held is given back', async () => {
    const route = hedged();
    const h = harness(route);
    const b = h.health.get(h.target('b')).breaker;
    // b is open and due: the hedge takes its probe.
    b.trip(1_000_000 - route.breaker.openForMs - 10);
    const { promise } = h.run();
    await h.advance(2000);
    expect(b.state).toBe('half-open');
    h.tries[0]!.settle(OK);
    await promise;
    expect(b.state).toBe('half-open');
    expect(b.canPass(1_002_000)).toBe(true);
  });

  it('no hedge past the budget: the request goes on alone and the denial is counted', async () => {
    const route = hedged(', budgetPercent: 10');
    const h = harness(route);
    // One request already hedged in the window: with budgetPercent 10, the next needs 10 more requests.
    h.budgets.for(route)!.hedge!.request(1_000_000);
    h.budgets.for(route)!.hedge!.spend(1_000_000);
    const { req, promise } = h.run();
    await h.advance(2000);
    expect(h.tries).toHaveLength(1);
    h.tries[0]!.settle(OK);
    await promise;
    expect(req.hedges).toBe(0);
    expect(h.events).toEqual(['hedge denied']);
  });

  it('skipWithTools: a request offering tools runs the plain loop, with no timer', async () => {
    const h = harness(hedged(', skipWithTools: true'));
    const { req, promise } = h.run({ body: { model: 'r', messages: [], tools: [{ type: 'function', function: { name: 'pay' } }] } });
    await flush();
    expect(h.timers).toHaveLength(0);
    h.tries[0]!.settle(OK);
    await promise;
    expect(req.hedges).toBeUndefined();
  });

  it('a route without hedge sets no timer and makes no signal of its own', async () => {
    const h = harness(routeWith(three, fast));
    const { req, promise } = h.run();
    await flush();
    expect(h.tries[0]!.signal).toBe(req.signal);
    h.tries[0]!.settle(OK);
    await promise;
    expect(h.timers).toHaveLength(0);
  });

  it('no target left to hedge to: no hedge', async () => {
    const h = harness(routeWith(['{name: a, provider: openai, model: m}'], `${fast}\n  hedge: {after: 2s}`));
    const { req, promise } = h.run();
    await h.advance(2000);
    expect(h.tries).toHaveLength(1);
    h.tries[0]!.settle(OK);
    await promise;
    expect(req.hedges).toBe(0);
  });
});

describe('promptTokensEstimate: what a hedged-out try cost, at least', () => {
  it('counts text bytes / 4 and inline images at a fixed cost', () => {
    expect(promptTokensEstimate({ messages: [{ role: 'user', content: 'x'.repeat(400) }] })).toBe(101);
    const image = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(100_000)}` } }] }] };
    // The strings "user" and "image_url" are text too: 13 bytes, 4 tokens.
    expect(promptTokensEstimate(image)).toBe(1600 + 4);
  });
});
