/**
 * The failover loop: runs one client request through a route's targets
 * until one commits. Retries the same target with backoff (or after its
 * Retry-After), moves on by the route's fallbackOn, feeds the breakers and
 * cooldowns, and keeps the whole thing inside the total deadline. Returns
 * the committed result or throws a typed error (errors.ts).
 */
import { attempt, type AttemptResult, type Failure } from './attempt.ts';
import { backoffDelayMs } from './backoff.ts';
import { planTargets, RoundRobinWeights, waitMs } from './balancer.ts';
import type { Route, Target } from './config/runtime-config.ts';
import { AllTargetsFailedError, ClientClosedError, UpstreamRejectedError, type AttemptRecord } from './errors.ts';
import type { EndpointKind, ProviderAdapter, ProviderName } from './providers/types.ts';
import type { HealthRegistry } from './target-health.ts';

export interface FailoverDeps {
  health: HealthRegistry;
  adapterFor: (provider: ProviderName) => ProviderAdapter;
  /** Smooth round robin's running weights; without them a request plans as if it were the first. */
  weights?: RoundRobinWeights;
  onAttempt?: (route: Route, target: Target, outcome: string, failure?: Failure) => void;
  onFallback?: (route: Route, from: Target, to: Target, reason: string) => void;
  onCooldown?: (route: Route, target: Target, ms: number) => void;
  now?: () => number;
  random?: () => number;
  /** The one-try function; tests put a scripted one here. */
  attempt?: typeof attempt;
}

export interface FailoverRequest {
  route: Route;
  kind: EndpointKind;
  body: Record<string, unknown>;
  stream: boolean;
  /** Aborted with 'deadline' or 'client-closed'. */
  signal: AbortSignal;
  deadlineAt: number;
  /** Filled in as the loop runs, for the response headers and errors. */
  attempts: AttemptRecord[];
  fallbacks: number;
}

export type Committed = Extract<AttemptResult, { ok: true }> & { target: Target };

const RETRYABLE = new Set(['server-error', 'timeout', 'connection-error']);

export async function runFailover(req: FailoverRequest, deps: FailoverDeps): Promise<Committed> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const tryOnce = deps.attempt ?? attempt;
  const { route } = req;
  const healthOf = (t: Target) => deps.health.get(t);
  const plan = planTargets(route, deps.health, deps.weights ?? new RoundRobinWeights(), now());
  const forced = plan.length === 1 && waitMs(healthOf(plan[0]!), now()) > 0;
  let previous: { target: Target; reason: string } | undefined;

  for (const target of plan) {
    const health = healthOf(target);
    // The plan was made a moment ago; another request may have taken the half-open probe since.
    if (!health.breaker.acquire(now()) && !forced) continue;
    if (previous) {
      req.fallbacks++;
      deps.onFallback?.(route, previous.target, target, previous.reason);
    }
    const adapter = deps.adapterFor(target.provider);

    for (let retry = 0; ; retry++) {
      const remainingMs = req.deadlineAt - now();
      if (remainingMs <= 0) throw new AllTargetsFailedError(route.name, req.attempts, 'deadline');
      const result = await tryOnce({ route, target, adapter, kind: req.kind, body: req.body, stream: req.stream, signal: req.signal, remainingMs });
      if (result.ok) {
        req.attempts.push({ target: target.name, class: 'ok', status: result.kind === 'json' ? result.status : 200 });
        health.breaker.success();
        deps.onAttempt?.(route, target, 'ok');
        return { ...result, target };
      }
      const f = result.failure;
      if (f.cause === 'client-closed') throw new ClientClosedError();
      if (f.cause === 'deadline') {
        req.attempts.push({ target: target.name, class: 'timeout', status: null });
        deps.onAttempt?.(route, target, 'timeout', f);
        throw new AllTargetsFailedError(route.name, req.attempts, 'deadline');
      }
      req.attempts.push({ target: target.name, class: f.errorClass, status: f.status });
      deps.onAttempt?.(route, target, f.errorClass, f);

      const t = now();
      switch (f.errorClass) {
        case 'server-error':
        case 'timeout':
        case 'connection-error':
          health.breaker.failure(t);
          break;
        case 'auth':
          health.breaker.trip(t);
          break;
        case 'rate-limit':
          if (f.retryAfterMs !== undefined) {
            health.cooldownUntil = Math.max(health.cooldownUntil, t + f.retryAfterMs);
            deps.onCooldown?.(route, target, f.retryAfterMs);
          }
          break;
        default:
          // bad-request, context-window: the provider is up and answering.
          health.breaker.success();
      }

      if (f.errorClass === 'bad-request') throw rejected(f, req.attempts);
      if (f.errorClass === 'context-window' && !route.fallbackOn.has('context-window')) throw rejected(f, req.attempts);

      // Another try on the same target?
      let waitFor: number | undefined;
      if (retry < route.retry.attempts && health.breaker.state !== 'open') {
        if (RETRYABLE.has(f.errorClass)) waitFor = backoffDelayMs(retry, route.retry.backoffInitialMs, route.retry.backoffMaxMs, random);
        else if (f.errorClass === 'rate-limit') {
          if (f.retryAfterMs === undefined) waitFor = backoffDelayMs(retry, route.retry.backoffInitialMs, route.retry.backoffMaxMs, random);
          else if (f.retryAfterMs <= route.retry.retryAfterCapMs) waitFor = f.retryAfterMs;
        }
      }
      if (waitFor !== undefined && waitFor < req.deadlineAt - now()) {
        await sleep(waitFor, req.signal);
        if (req.signal.aborted) {
          if (req.signal.reason === 'client-closed') throw new ClientClosedError();
          throw new AllTargetsFailedError(route.name, req.attempts, 'deadline');
        }
        continue;
      }

      // Move on, when the route falls back on this class; otherwise the client gets this error.
      if (f.errorClass !== 'auth' && f.errorClass !== 'context-window' && !route.fallbackOn.has(f.errorClass)) {
        if (f.providerError) throw rejected(f, req.attempts);
        throw new AllTargetsFailedError(route.name, req.attempts, 'failed');
      }
      previous = { target, reason: f.errorClass };
      break;
    }
  }

  // A last try's timeout that was cut to the time left is the total deadline running out (504), not a failure (502).
  if (now() >= req.deadlineAt) throw new AllTargetsFailedError(route.name, req.attempts, 'deadline');
  if (req.attempts.length > 0 && req.attempts.every((a) => a.class === 'rate-limit')) {
    const t = now();
    let soonest = Infinity;
    for (const target of route.targets) soonest = Math.min(soonest, Math.max(0, healthOf(target).cooldownUntil - t));
    const seconds = Number.isFinite(soonest) ? Math.max(1, Math.ceil(soonest / 1000)) : 1;
    throw new AllTargetsFailedError(route.name, req.attempts, 'rate-limited', seconds);
  }
  throw new AllTargetsFailedError(route.name, req.attempts, 'failed');
}

function rejected(f: Failure, attempts: AttemptRecord[]): UpstreamRejectedError {
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
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
