import type { Failure } from './attempt.ts';
import type { CircuitState } from './breaker.ts';
import type { Route, Target } from './config/runtime-config.ts';
import type { AttemptRecord } from './errors.ts';
import { decide, decideAfterCommit, decideAfterStreamFailure, decideExhausted, type FailoverDecision } from './failover-policy.ts';
import type { HealthView } from './target-health.ts';
import { routeWith } from './testing/route.ts';

const NOW = 1_000_000;
const two = ['{name: a, provider: openai, model: m}', '{name: b, provider: anthropic, model: m, priority: 1}'];
const policy = 'retry: {attempts: 2, backoff: {initial: 100ms, max: 1s}, retryAfterCap: 5s}\n  circuitBreaker: {consecutiveFailures: 3, openFor: 30s}';
const ROUTE = routeWith(two, policy);
const ONLY_RATE_LIMIT = routeWith(two, `${policy}\n  fallbackOn: [rate-limit]`);
const ONLY_SERVER_ERROR = routeWith(two, `${policy}\n  fallbackOn: [server-error]`);
const WITH_CONTEXT_WINDOW = routeWith(two, `${policy}\n  fallbackOn: [context-window, server-error]`);

function health(state: CircuitState = 'closed', failures = 0, cooldownUntil = 0): HealthView {
  return { breaker: { state, failures, policy: { consecutiveFailures: 3, openForMs: 30_000 }, waitMs: () => 0 }, cooldownUntil, nearLimitUntil: 0, ejectedUntil: 0, latency: undefined, inflight: 0 };
}

const fail = (f: Partial<Failure>): Failure => ({ errorClass: 'server-error', status: 500, message: 'boom', ...f });
const providerError = { errorClass: 'server-error' as const, status: 500, message: 'boom', type: 'server_error', code: null };

interface Row {
  failure: Failure;
  route?: Route;
  /** Tries on this target before this one. */
  retry?: number;
  health?: HealthView;
  /** Milliseconds of the total deadline left. */
  left?: number;
}

// random() is 0.5: backoff is half its ceiling, 50 ms for the first retry (ceiling 100 ms), 100 ms for the second.
const RULES: Array<[string, Row, FailoverDecision]> = [
  ['the client went away during the try: stop, nothing changes', { failure: fail({ errorClass: 'timeout', status: null, cause: 'client-closed' }) }, { action: 'abandon', health: {} }],
  ['the total deadline ran out during the try: fail (deadline), nothing changes', { failure: fail({ errorClass: 'timeout', status: null, cause: 'deadline' }) }, { action: 'fail', reason: 'deadline', health: {} }],
  ['server-error: a breaker failure, retry the same target after backoff', { failure: fail({}) }, { action: 'retry', waitMs: 50, health: { breaker: 'failure' } }],
  ['timeout: the same', { failure: fail({ errorClass: 'timeout', status: null }) }, { action: 'retry', waitMs: 50, health: { breaker: 'failure' } }],
  ['a crawl in its commit window (timeout, slow-stream): a breaker failure like any timeout, and no retry: it falls back at once', { failure: fail({ errorClass: 'timeout', status: null, inWindow: 'slow-stream' }) }, { action: 'fallback', reason: 'timeout', health: { breaker: 'failure' } }],
  ['a stall in its commit window (timeout, stall): retried like any timeout', { failure: fail({ errorClass: 'timeout', status: null, inWindow: 'stall' }) }, { action: 'retry', waitMs: 50, health: { breaker: 'failure' } }],
  ['a crawl in its commit window on a route that does not fall back on timeout: the request fails', { failure: fail({ errorClass: 'timeout', status: null, inWindow: 'slow-stream' }), route: ONLY_RATE_LIMIT }, { action: 'fail', reason: 'failed', health: { breaker: 'failure' } }],
  ['connection-error: the same', { failure: fail({ errorClass: 'connection-error', status: null }) }, { action: 'retry', waitMs: 50, health: { breaker: 'failure' } }],
  ['the backoff ceiling doubles with each retry', { failure: fail({}), retry: 1 }, { action: 'retry', waitMs: 100, health: { breaker: 'failure' } }],
  ['retries used up: fall back', { failure: fail({}), retry: 2 }, { action: 'fallback', reason: 'server-error', health: { breaker: 'failure' } }],
  ['the failure that opens the breaker: no retry, fall back', { failure: fail({}), health: health('closed', 2) }, { action: 'fallback', reason: 'server-error', health: { breaker: 'failure' } }],
  ['a failed half-open probe reopens the breaker: no retry, fall back', { failure: fail({}), health: health('half-open') }, { action: 'fallback', reason: 'server-error', health: { breaker: 'failure' } }],
  ['a try forced on an open breaker: no retry, fall back', { failure: fail({}), health: health('open', 1) }, { action: 'fallback', reason: 'server-error', health: { breaker: 'failure' } }],
  ['no wait that would not end before the deadline: fall back', { failure: fail({}), left: 50 }, { action: 'fallback', reason: 'server-error', health: { breaker: 'failure' } }],
  ['a class the route does not fall back on, without a provider error: fail', { failure: fail({}), route: ONLY_RATE_LIMIT, retry: 2 }, { action: 'fail', reason: 'failed', health: { breaker: 'failure' } }],
  ["a class the route does not fall back on, with the provider's error: reject with it", { failure: fail({ providerError }), route: ONLY_RATE_LIMIT, retry: 2 }, { action: 'reject', health: { breaker: 'failure' } }],
  ['auth: the breaker trips, no retry, fall back even when fallbackOn lacks it', { failure: fail({ errorClass: 'auth', status: 401 }), route: ONLY_SERVER_ERROR }, { action: 'fallback', reason: 'auth', health: { breaker: 'trip' } }],
  ['not-found (a wrong baseURL, a renamed deployment, a retired model): the breaker trips, no retry, fall back even when fallbackOn lacks it', { failure: fail({ errorClass: 'not-found', status: 404, providerError: { ...providerError, errorClass: 'not-found', status: 404 } }), route: ONLY_SERVER_ERROR }, { action: 'fallback', reason: 'not-found', health: { breaker: 'trip' } }],
  ['rate-limit with a Retry-After within retryAfterCap: cool down for it and wait it out on the same target', { failure: fail({ errorClass: 'rate-limit', status: 429, retryAfterMs: 2000 }) }, { action: 'retry', waitMs: 2000, health: { cooldownUntil: NOW + 2000, cooldownMs: 2000 } }],
  ['rate-limit with a Retry-After over retryAfterCap: cool down for all of it, fall back at once', { failure: fail({ errorClass: 'rate-limit', status: 429, retryAfterMs: 60_000 }) }, { action: 'fallback', reason: 'rate-limit', health: { cooldownUntil: NOW + 60_000, cooldownMs: 60_000 } }],
  ['a Retry-After shorter than the cooldown already running keeps the later end', { failure: fail({ errorClass: 'rate-limit', status: 429, retryAfterMs: 2000 }), health: health('closed', 0, NOW + 10_000) }, { action: 'retry', waitMs: 2000, health: { cooldownUntil: NOW + 10_000, cooldownMs: 2000 } }],
  ['a Retry-After within the cap but past the deadline: fall back', { failure: fail({ errorClass: 'rate-limit', status: 429, retryAfterMs: 2000 }), left: 1000 }, { action: 'fallback', reason: 'rate-limit', health: { cooldownUntil: NOW + 2000, cooldownMs: 2000 } }],
  ['rate-limit without Retry-After: no cooldown, retry after backoff', { failure: fail({ errorClass: 'rate-limit', status: 429 }) }, { action: 'retry', waitMs: 50, health: {} }],
  ['rate-limit without Retry-After, retries used up: fall back', { failure: fail({ errorClass: 'rate-limit', status: 429 }), retry: 2 }, { action: 'fallback', reason: 'rate-limit', health: {} }],
  ["rate-limit the route does not fall back on: the provider's 429 goes to the client", { failure: fail({ errorClass: 'rate-limit', status: 429, retryAfterMs: 60_000, providerError: { ...providerError, errorClass: 'rate-limit', status: 429 } }), route: ONLY_SERVER_ERROR }, { action: 'reject', health: { cooldownUntil: NOW + 60_000, cooldownMs: 60_000 } }],
  ['bad-request: the provider is up (breaker success); reject, never retried', { failure: fail({ errorClass: 'bad-request', status: 400 }) }, { action: 'reject', health: { breaker: 'success' } }],
  ['bad-request refusing a parameter the try sent ("`temperature` is deprecated for this model"): the provider is up; retry at once without it, remembered for the target', { failure: fail({ errorClass: 'bad-request', status: 400, refusedParam: 'temperature' }) }, { action: 'retry-without', param: 'temperature', health: { breaker: 'success', refusedParam: 'temperature' } }],
  ['the same with retry.attempts used up: a retry without a refused parameter is not one of them', { failure: fail({ errorClass: 'bad-request', status: 400, refusedParam: 'top_k' }), retry: 2 }, { action: 'retry-without', param: 'top_k', health: { breaker: 'success', refusedParam: 'top_k' } }],
  ['context-window the route does not fall back on: success, reject', { failure: fail({ errorClass: 'context-window', status: 400 }) }, { action: 'reject', health: { breaker: 'success' } }],
  ['context-window in fallbackOn: success, fall back without a retry', { failure: fail({ errorClass: 'context-window', status: 400 }), route: WITH_CONTEXT_WINDOW }, { action: 'fallback', reason: 'context-window', health: { breaker: 'success' } }],
];

describe('decide: one failed try (SPEC section 5)', () => {
  it.each(RULES)('%s', (_rule, row, expected) => {
    const d = decide(row.failure, row.route ?? ROUTE, row.retry ?? 0, row.health ?? health(), NOW, NOW + (row.left ?? 30_000), () => 0.5);
    expect(d).toEqual(expected);
  });
});

// The retry budget spent (issue 13): what would have been retried is not; the rest is as before.
const BUDGET_SPENT: Array<[string, Row, FailoverDecision]> = [
  ['server-error with retries left: no retry, fall back at once (retryDenied)', { failure: fail({}) }, { action: 'fallback', reason: 'server-error', health: { breaker: 'failure' }, retryDenied: true }],
  ['rate-limit within retryAfterCap: no wait, fall back, still cooled down', { failure: fail({ errorClass: 'rate-limit', status: 429, retryAfterMs: 2000 }) }, { action: 'fallback', reason: 'rate-limit', health: { cooldownUntil: NOW + 2000, cooldownMs: 2000 }, retryDenied: true }],
  ["a class the route does not fall back on: the provider's error goes back at once", { failure: fail({ providerError }), route: ONLY_RATE_LIMIT }, { action: 'reject', health: { breaker: 'failure' }, retryDenied: true }],
  ['retries used up anyway: nothing was denied', { failure: fail({}), retry: 2 }, { action: 'fallback', reason: 'server-error', health: { breaker: 'failure' } }],
  ['auth is never retried: nothing was denied', { failure: fail({ errorClass: 'auth', status: 401 }) }, { action: 'fallback', reason: 'auth', health: { breaker: 'trip' } }],
  ['a refused parameter is fixed, not retried: still tried again at once', { failure: fail({ errorClass: 'bad-request', status: 400, refusedParam: 'temperature' }) }, { action: 'retry-without', param: 'temperature', health: { breaker: 'success', refusedParam: 'temperature' } }],
  ['a hedged-out try (aborted on purpose) decides nothing', { failure: fail({ errorClass: 'timeout', status: null, cause: 'hedged-out' }) }, { action: 'abandon', health: {} }],
];

describe('decide with the retry budget spent (issue 13)', () => {
  it.each(BUDGET_SPENT)('%s', (_rule, row, expected) => {
    const d = decide(row.failure, row.route ?? ROUTE, row.retry ?? 0, row.health ?? health(), NOW, NOW + (row.left ?? 30_000), () => 0.5, false);
    expect(d).toEqual(expected);
  });
});

describe('decideExhausted: the plan ran out without a commit', () => {
  const [a, b] = ROUTE.targets as [Target, Target];
  const rl = (t: Target): AttemptRecord => ({ target: t.name, class: 'rate-limit', status: 429 });
  const cooling = (untilA: number, untilB: number) => ({ get: (t: Target) => health('closed', 0, t === a ? untilA : untilB) });

  it.each<[string, AttemptRecord[], ReturnType<typeof cooling>, number, FailoverDecision]>([
    ['the deadline has passed (a last try cut to the time left): fail (deadline), 504', [{ target: 'a', class: 'timeout', status: null }], cooling(0, 0), 0, { action: 'fail', reason: 'deadline', health: {} }],
    ['every try was rate-limited: fail (rate-limited), Retry-After the soonest cooldown in whole seconds', [rl(a), rl(b)], cooling(NOW + 30_000, NOW + 12_001), 1, { action: 'fail', reason: 'rate-limited', retryAfterSeconds: 13, health: {} }],
    ['every try was rate-limited, no cooldown left: Retry-After 1', [rl(a)], cooling(0, 0), 1, { action: 'fail', reason: 'rate-limited', retryAfterSeconds: 1, health: {} }],
    ['any other mix: fail (failed), 502', [rl(a), { target: 'b', class: 'server-error', status: 500 }], cooling(0, 0), 1, { action: 'fail', reason: 'failed', health: {} }],
    ['no try at all (every target skipped): fail (failed)', [], cooling(0, 0), 1, { action: 'fail', reason: 'failed', health: {} }],
  ])('%s', (_rule, attempts, reader, left, expected) => {
    expect(decideExhausted(ROUTE, attempts, reader, NOW, NOW + left)).toEqual(expected);
  });
});

describe('health after a commit and after a committed stream broke', () => {
  it('a committed try closes the breaker', () => expect(decideAfterCommit()).toEqual({ breaker: 'success' }));
  it.each(['connection-error', 'timeout', 'server-error', 'bad-request'] as const)('a stream broken by %s after its commit counts one breaker failure', (errorClass) => {
    expect(decideAfterStreamFailure({ errorClass, message: 'broke' })).toEqual({ breaker: 'failure' });
  });
});
