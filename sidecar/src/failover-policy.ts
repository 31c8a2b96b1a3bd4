/**
 * The failover rules of SPEC section 5, as pure decisions. Given how one try
 * failed, the route, which retry on its target it was, the target's health
 * (read only), the time and the total deadline: what happens next (retry
 * after N ms, fall back, reject with the provider's error, fail) and what
 * the outcome does to the target's health (breaker failure, trip or
 * success; cooldown until T). runFailover (failover.ts) carries decisions
 * out, HealthRegistry.apply the health changes. One test row per rule in
 * failover-policy.test.ts.
 */
import type { Failure } from './attempt.ts';
import { backoffDelayMs } from './backoff.ts';
import { stateAfter, type CircuitState } from './breaker.ts';
import type { Route } from './config/runtime-config.ts';
import type { ErrorClass } from './error-classes.ts';
import type { AllTargetsFailedError, AttemptRecord } from './errors.ts';
import type { StreamFailure } from './stream-relay.ts';
import type { HealthChange, HealthReader, HealthView } from './target-health.ts';

export type FailDecision = { action: 'fail'; reason: AllTargetsFailedError['reason']; retryAfterSeconds?: number; health: HealthChange; retryDenied?: true };

export type FailoverDecision =
  /** Try the same target again after waitMs. */
  | { action: 'retry'; waitMs: number; health: HealthChange }
  /** The target refused a parameter of the request: try it again at once without it (not counted against retry.attempts). */
  | { action: 'retry-without'; param: string; health: HealthChange }
  /** Move on to the next target of the plan; `reason` is the class that moved it. */
  | { action: 'fallback'; reason: ErrorClass; health: HealthChange; retryDenied?: true }
  /** The provider's error goes back to the client as it is (UpstreamRejectedError). */
  | { action: 'reject'; health: HealthChange; retryDenied?: true }
  /** The request fails (AllTargetsFailedError). */
  | FailDecision
  /** The client went away: stop, record nothing. */
  | { action: 'abandon'; health: HealthChange };

const NO_CHANGE: HealthChange = Object.freeze({});
const SUCCESS: HealthChange = Object.freeze({ breaker: 'success' });
const FAILURE: HealthChange = Object.freeze({ breaker: 'failure' });
const TRIP: HealthChange = Object.freeze({ breaker: 'trip' });
const ABANDON: FailoverDecision = Object.freeze({ action: 'abandon', health: NO_CHANGE });
const DEADLINE: FailDecision = Object.freeze({ action: 'fail', reason: 'deadline', health: NO_CHANGE });
const FAILED: FailDecision = Object.freeze({ action: 'fail', reason: 'failed', health: NO_CHANGE });

/** Classes that are tried again on the same target (with backoff). */
const RETRYABLE: ReadonlySet<ErrorClass> = new Set(['server-error', 'timeout', 'connection-error']);
/** Classes of a misconfigured target (a bad key, a wrong baseURL, a retired model): fall back whatever fallbackOn says. */
const ALWAYS_FALLS_BACK: ReadonlySet<ErrorClass> = new Set(['auth', 'not-found']);

/**
 * After one failed try. `retry` counts the tries on this target before it (0 for its first).
 * `retryBudgetLeft` false: the route's retry budget is spent, so a try that would be retried is not
 * (the decision says `retryDenied`) and the request moves on as if its retries were used up.
 */
export function decide(f: Failure, route: Route, retry: number, health: HealthView, now: number, deadlineAt: number, random: () => number, retryBudgetLeft = true): FailoverDecision {
  // A hedged-out try was aborted on purpose (the hedged loop never asks about one): nothing to decide.
  if (f.cause === 'client-closed' || f.cause === 'hedged-out') return ABANDON;
  if (f.cause === 'deadline') return DEADLINE;
  const cls = f.errorClass;
  const change = healthChange(f, health, now);
  if (cls === 'bad-request') {
    if (f.refusedParam !== undefined) return { action: 'retry-without', param: f.refusedParam, health: { breaker: 'success', refusedParam: f.refusedParam } };
    return { action: 'reject', health: change };
  }
  if (cls === 'context-window' && !route.fallbackOn.has('context-window')) return { action: 'reject', health: change };

  const wait = retryWait(f, route, retry, stateAfter(health.breaker, change.breaker), random);
  const retries = wait !== undefined && wait < deadlineAt - now;
  if (retries && retryBudgetLeft) return { action: 'retry', waitMs: wait, health: change };
  const denied = retries ? DENIED : undefined;

  // Move on, when the route falls back on this class (auth and not-found always do); otherwise the client gets this error.
  if (!ALWAYS_FALLS_BACK.has(cls) && cls !== 'context-window' && !route.fallbackOn.has(cls)) {
    return f.providerError ? { action: 'reject', health: change, ...denied } : { action: 'fail', reason: 'failed', health: change, ...denied };
  }
  return { action: 'fallback', reason: cls, health: change, ...denied };
}

const DENIED = Object.freeze({ retryDenied: true as const });

/** What a failure does to its target's health. */
function healthChange(f: Failure, health: HealthView, now: number): HealthChange {
  switch (f.errorClass) {
    case 'server-error':
    case 'timeout':
    case 'connection-error':
      return FAILURE;
    case 'auth':
    case 'not-found':
      return TRIP;
    case 'rate-limit':
      if (f.retryAfterMs === undefined) return NO_CHANGE;
      return { cooldownUntil: Math.max(health.cooldownUntil, now + f.retryAfterMs), cooldownMs: f.retryAfterMs };
    default:
      // bad-request, context-window: the provider is up and answering.
      return SUCCESS;
  }
}

/** How long to wait before trying the same target again, or undefined for no retry. */
function retryWait(f: Failure, route: Route, retry: number, breaker: CircuitState, random: () => number): number | undefined {
  const r = route.retry;
  if (retry >= r.attempts || breaker === 'open') return undefined;
  // A crawl was measured over a whole commit window: the target is slow now, and another try
  // there would cost the window again. It moves on at once (a stall in the window is retried).
  if (f.inWindow === 'slow-stream') return undefined;
  if (RETRYABLE.has(f.errorClass)) return backoffDelayMs(retry, r.backoffInitialMs, r.backoffMaxMs, random);
  if (f.errorClass !== 'rate-limit') return undefined;
  // A 429: its Retry-After when there is one and it is short enough, else backoff.
  if (f.retryAfterMs === undefined) return backoffDelayMs(retry, r.backoffInitialMs, r.backoffMaxMs, random);
  return f.retryAfterMs <= r.retryAfterCapMs ? f.retryAfterMs : undefined;
}

/** When the plan has run out of targets without a commit. */
export function decideExhausted(route: Route, attempts: readonly AttemptRecord[], health: HealthReader, now: number, deadlineAt: number): FailDecision {
  // A last try's timeout that was cut to the time left is the total deadline running out (504), not a failure (502).
  if (now >= deadlineAt) return DEADLINE;
  // Targets skipped as unsupported made no try: the tries there were decide.
  const tried = attempts.filter((a) => a.class !== 'unsupported' && a.class !== 'hedged-out');
  if (tried.length > 0 && tried.every((a) => a.class === 'rate-limit')) {
    let soonest = Infinity;
    for (const target of route.targets) soonest = Math.min(soonest, Math.max(0, health.get(target).cooldownUntil - now));
    const seconds = Number.isFinite(soonest) ? Math.max(1, Math.ceil(soonest / 1000)) : 1;
    return { action: 'fail', reason: 'rate-limited', retryAfterSeconds: seconds, health: NO_CHANGE };
  }
  return FAILED;
}

/** A try committed: its target is up. */
export function decideAfterCommit(): HealthChange {
  return SUCCESS;
}

/** A committed stream broke: one failure for its target's breaker, whatever broke it. */
export function decideAfterStreamFailure(_failure: StreamFailure): HealthChange {
  return FAILURE;
}
