/**
 * The steps the failover loop (failover.ts) and the hedged loop
 * (hedged-failover.ts) share: how a target of the plan is reached and
 * admitted, how a failed plan ends, how a provider's error goes back, and
 * the backoff sleep.
 */
import type { AttemptResult, Failure } from './attempt.ts';
import type { Route, Target } from './config/runtime-config.ts';
import { AllTargetsFailedError, UnsupportedRequestError, UpstreamRejectedError, type AttemptRecord } from './errors.ts';
import { decideAfterCommit, decideExhausted, type FailoverDecision } from './failover-policy.ts';
import type { ProviderAdapter } from './providers/types.ts';
import { nearLimitUntil } from './rate-limit-headers.ts';
import type { FailoverDeps, FailoverRequest } from './failover.ts';
import type { RequestObserver } from './request-observer.ts';
import type { HealthRegistry, TargetHealth } from './target-health.ts';
import type { TargetReach } from './surfaces/target-reach.ts';

/** A target of the plan that takes this request: how it is reached, and its health. */
export interface Reached {
  target: Target;
  adapter: ProviderAdapter;
  body: Record<string, unknown>;
  h: TargetHealth;
}

/**
 * The adapter and body a target is sent this request with, or undefined when it cannot serve it
 * (recorded as `unsupported` and reported; nothing is sent).
 */
export function reachOf(req: FailoverRequest, deps: FailoverDeps, observer: RequestObserver, target: Target): { adapter: ProviderAdapter; body: Record<string, unknown> } | undefined {
  if (!req.reach) return { adapter: deps.adapterFor(target.provider), body: req.body };
  const r = req.reach(target);
  if ('unsupported' in r) {
    // Skipped before its health is asked: a target that cannot serve the request takes no half-open probe.
    req.attempts.push({ target: target.name, class: 'unsupported', status: null, detail: r.unsupported });
    observer.skipped(req.route, target, r.unsupported);
    return undefined;
  }
  return r;
}

/** The next target of `plan` from `from` that serves the request and whose breaker admits it now; `next` is where to go on. */
export function reachNext(req: FailoverRequest, deps: FailoverDeps, observer: RequestObserver, health: HealthRegistry, plan: readonly Target[], from: number, forced: boolean, now: number): { reached: Reached; next: number } | { reached: undefined; next: number } {
  for (let i = from; i < plan.length; i++) {
    const target = plan[i]!;
    const r = reachOf(req, deps, observer, target);
    if (!r) continue;
    const h = health.get(target);
    // The plan was made a moment ago; another request may have taken the half-open probe since.
    if (!health.admit(h, now) && !forced) continue;
    return { reached: { target, adapter: r.adapter, body: r.body, h }, next: i + 1 };
  }
  return { reached: undefined, next: plan.length };
}

/** The error of a plan that ran out without a commit. */
export function endOfPlan(req: FailoverRequest, plan: readonly Target[], health: HealthRegistry, now: number): Error {
  const { route } = req;
  // Only when no target of the route could serve it is the request the client's to fix (400).
  if (req.attempts.length > 0 && req.attempts.every((a) => a.class === 'unsupported') && (plan.length === route.targets.length || (req.reach !== undefined && everyTargetUnsupported(route, req.reach)))) {
    return new UnsupportedRequestError(route.name, req.attempts);
  }
  const end = decideExhausted(route, req.attempts, health, now, req.deadlineAt);
  return new AllTargetsFailedError(route.name, req.attempts, end.reason, end.retryAfterSeconds);
}

/** Whether no target of the route (planned or not) can serve the request: only then is it the client's 400. */
function everyTargetUnsupported(route: Route, reach: TargetReach): boolean {
  return route.targets.every((t) => 'unsupported' in reach(t));
}

export function rejected(f: Failure, attempts: AttemptRecord[]): UpstreamRejectedError {
  const p = f.providerError;
  return new UpstreamRejectedError(
    f.status ?? 502,
    p?.type ?? 'upstream_error',
    p?.code ?? null,
    p?.message ?? f.message,
    p?.param ?? null,
    attempts,
  );
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Whether the route counts each target's tries in flight: only rate-limit awareness and least-latency read them. */
export function countsTries(route: Route): boolean {
  return route.rateLimit !== undefined || route.latency !== undefined;
}

/**
 * What a committed try tells the picking (balancer.ts): the provider's rate-limit headers (a target
 * near its limit moves behind its peers until the reset) and, with least-latency, the try's latency
 * (a stream's time to its first content, a whole answer's time) from `sentAt` (performance.now()).
 */
export function noteCommitted(route: Route, target: Target, h: TargetHealth, result: Extract<AttemptResult, { ok: true }>, sentAt: number, health: HealthRegistry, observer: RequestObserver, now: number): void {
  if (route.rateLimit && result.headers) {
    const until = nearLimitUntil(result.headers, route.rateLimit, now, h.inflight);
    if (until !== h.nearLimitUntil && health.noteNearLimit(h, until, now)) observer.rateLimitShifted(route, target, until - now);
  }
  if (route.latency) {
    const ms = (result.kind === 'stream' ? result.firstContentAt : performance.now()) - sentAt;
    const verdict = health.noteLatency(route, target, h, result.kind === 'stream' ? 'stream' : 'whole', ms, now);
    if (verdict) observer.outlierEjected(route, target, route.latency.ejectForMs, verdict.ewmaMs, verdict.medianMs);
  }
}

/** A committed try, recorded: the attempt, the health it restores, what it tells the picking (when `counted`), the observer. */
export function recordCommitted(req: FailoverRequest, target: Target, h: TargetHealth, result: Extract<AttemptResult, { ok: true }>, sentAt: number, counted: boolean, health: HealthRegistry, observer: RequestObserver, now: () => number): void {
  const { route } = req;
  req.attempts.push({ target: target.name, class: 'ok', status: result.kind === 'json' ? result.status : 200 });
  health.apply(h, decideAfterCommit(), now);
  if (counted) noteCommitted(route, target, h, result, sentAt, health, observer, now());
  observer.attemptFinished(route, target, 'ok');
}

/** A try the adapter could not express for its target, recorded: nothing was sent, so its health stands and a half-open probe it held is given back. */
export function recordUnsupported(req: FailoverRequest, target: Target, h: TargetHealth, f: Failure, health: HealthRegistry, observer: RequestObserver, now: number): void {
  req.attempts.push({ target: target.name, class: 'unsupported', status: null, detail: f.message });
  observer.skipped(req.route, target, f.message);
  health.release(h, now);
}

/** A failed try, recorded with what the policy decided of it: the attempt (a try the total deadline cut short is a timeout), the observer, the health change. */
export function recordFailure(req: FailoverRequest, target: Target, h: TargetHealth, f: Failure, d: FailoverDecision, health: HealthRegistry, observer: RequestObserver, now: () => number): void {
  const { route } = req;
  const cls = f.cause === 'deadline' ? 'timeout' : f.errorClass;
  req.attempts.push({ target: target.name, class: cls, status: f.cause === 'deadline' ? null : f.status });
  observer.attemptFinished(route, target, cls, f);
  health.apply(h, d.health, now);
  if (d.health.cooldownMs !== undefined) observer.cooledDown(route, target, d.health.cooldownMs);
}
