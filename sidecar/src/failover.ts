/**
 * The failover loop: runs one client request through a route's targets
 * until one commits. It only carries out what failover-policy.ts decides
 * after each try (sleeps before a retry, moves on, throws), hands the
 * health changes to HealthRegistry and reports to the RequestObserver.
 * Returns the committed result or throws a typed error (errors.ts).
 */
import { attempt, type AttemptResult, type Failure } from './attempt.ts';
import { planTargets, RoundRobinWeights, waitMs, type PickInput } from './balancer.ts';
import { nearLimitUntil } from './rate-limit-headers.ts';
import type { Route, Target } from './config/runtime-config.ts';
import type { ErrorClass } from './error-classes.ts';
import { AllTargetsFailedError, ClientClosedError, UnsupportedRequestError, UpstreamRejectedError, type AttemptRecord } from './errors.ts';
import { decide, decideAfterCommit, decideExhausted } from './failover-policy.ts';
import type { EndpointKind, ProviderAdapter, ProviderName } from './providers/types.ts';
import { SILENT_OBSERVER, type RequestObserver } from './request-observer.ts';
import type { HealthRegistry } from './target-health.ts';
import type { TargetReach } from './surfaces/target-reach.ts';
import type { ApiName } from './surfaces/types.ts';

export interface FailoverDeps {
  health: HealthRegistry;
  adapterFor: (provider: ProviderName) => ProviderAdapter;
  /** Smooth round robin's running weights; without them a request plans as if it were the first. */
  weights?: RoundRobinWeights;
  observer?: RequestObserver;
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
  /**
   * How each target is reached for this request's API (surfaces/target-reach.ts): the adapter and
   * body to send, or why it cannot serve it (the target is skipped). Unset: Chat, the target's own adapter.
   */
  reach?: TargetReach | undefined;
  /** The API the client spoke (metrics); default chat. */
  api?: ApiName | undefined;
  /** The client's request headers, for native codecs that pass some on. */
  clientHeaders?: Readonly<Record<string, string | string[] | undefined>> | undefined;
  /** With the route's `affinity`: the request's session key hash (affinity.ts), undefined when it has none. */
  affinityHash?: number | undefined;
}

export type Committed = Extract<AttemptResult, { ok: true }> & { target: Target };

export async function runFailover(req: FailoverRequest, deps: FailoverDeps): Promise<Committed> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const tryOnce = deps.attempt ?? attempt;
  const observer = deps.observer ?? SILENT_OBSERVER;
  const { health } = deps;
  const { route } = req;
  // Only least-latency and affinity read more than the route and health: the default plans without.
  const pick: PickInput | undefined = route.latency || route.affinity ? { random, stream: req.stream, affinityHash: req.affinityHash, affinity: undefined } : undefined;
  const plan = planTargets(route, health, deps.weights ?? new RoundRobinWeights(), now(), pick);
  if (route.affinity) observer.affinity(route, req.affinityHash === undefined ? 'nokey' : (pick!.affinity ?? 'hit'));
  // A plan of one target that cannot take traffic yet (all were out): it is tried anyway.
  const forced = plan.length === 1 && waitMs(health.get(plan[0]!), now()) > 0;
  let previous: { target: Target; reason: ErrorClass } | undefined;

  for (const target of plan) {
    let adapter: ProviderAdapter;
    let body = req.body;
    if (req.reach) {
      const r = req.reach(target);
      if ('unsupported' in r) {
        // Skipped before its health is asked: a target that cannot serve the request takes no half-open probe.
        req.attempts.push({ target: target.name, class: 'unsupported', status: null, detail: r.unsupported });
        observer.skipped(route, target, r.unsupported);
        continue;
      }
      adapter = r.adapter;
      body = r.body;
    } else adapter = deps.adapterFor(target.provider);
    const h = health.get(target);
    // The plan was made a moment ago; another request may have taken the half-open probe since.
    if (!health.admit(h, now()) && !forced) continue;
    if (previous) {
      req.fallbacks++;
      observer.fellBack(route, previous.target, target, previous.reason);
    }

    // `retry` counts the retries of retry.attempts; a retry without a refused parameter is not one.
    for (let retry = 0; ; ) {
      const remainingMs = req.deadlineAt - now();
      if (remainingMs <= 0) throw new AllTargetsFailedError(route.name, req.attempts, 'deadline');
      // Tries in flight: least-latency's cost, and what rate-limit headers have not counted yet.
      const counted = route.rateLimit !== undefined || route.latency !== undefined;
      if (counted) health.trySent(h);
      const sentAt = route.latency ? performance.now() : 0;
      let result: AttemptResult;
      try {
        result = await tryOnce({ route, target, adapter, kind: req.kind, body, stream: req.stream, signal: req.signal, remainingMs, refused: h.refusedParams, clientHeaders: req.clientHeaders });
      } finally {
        if (counted) health.tryDone(h);
      }
      if (result.ok) {
        req.attempts.push({ target: target.name, class: 'ok', status: result.kind === 'json' ? result.status : 200 });
        health.apply(h, decideAfterCommit(), now);
        if (route.rateLimit && result.headers) {
          const t = now();
          const until = nearLimitUntil(result.headers, route.rateLimit, t, h.inflight);
          if (until !== h.nearLimitUntil && health.noteNearLimit(h, until, t)) observer.rateLimitShifted(route, target, until - t);
        }
        if (route.latency) {
          // A stream's time to its first content; a whole answer's time (latency-policy.ts).
          const ms = (result.kind === 'stream' ? result.firstContentAt : performance.now()) - sentAt;
          const verdict = health.noteLatency(route, target, h, result.kind === 'stream' ? 'stream' : 'whole', ms, now());
          if (verdict) observer.outlierEjected(route, target, route.latency!.ejectForMs, verdict.ewmaMs, verdict.medianMs);
        }
        observer.attemptFinished(route, target, 'ok');
        return { ...result, target };
      }
      const f = result.failure;
      if (f.unsupported) {
        req.attempts.push({ target: target.name, class: 'unsupported', status: null, detail: f.message });
        observer.skipped(route, target, f.message);
        // Nothing was sent: the target's health stands, and the half-open probe it may hold is given back.
        health.release(h, now());
        break;
      }
      const t = now();
      const d = decide(f, route, retry, h, t, req.deadlineAt, random);
      if (d.action === 'abandon') throw new ClientClosedError();
      // A try the total deadline cut short is recorded as a timeout.
      const cls = f.cause === 'deadline' ? 'timeout' : f.errorClass;
      req.attempts.push({ target: target.name, class: cls, status: f.cause === 'deadline' ? null : f.status });
      observer.attemptFinished(route, target, cls, f);
      health.apply(h, d.health, now);
      if (d.health.cooldownMs !== undefined) observer.cooledDown(route, target, d.health.cooldownMs);

      if (d.action === 'retry') {
        await sleep(d.waitMs, req.signal);
        if (req.signal.aborted) {
          if (req.signal.reason === 'client-closed') throw new ClientClosedError();
          throw new AllTargetsFailedError(route.name, req.attempts, 'deadline');
        }
        retry++;
        continue;
      }
      if (d.action === 'retry-without') {
        observer.paramRefused(route, target, d.param);
        continue;
      }
      if (d.action === 'reject') throw rejected(f, req.attempts);
      if (d.action === 'fail') throw new AllTargetsFailedError(route.name, req.attempts, d.reason, d.retryAfterSeconds);
      previous = { target, reason: d.reason };
      break;
    }
  }

  // Only when no target of the route could serve it is the request the client's to fix (400).
  if (req.attempts.length > 0 && req.attempts.every((a) => a.class === 'unsupported') && (plan.length === route.targets.length || (req.reach !== undefined && everyTargetUnsupported(route, req.reach)))) {
    throw new UnsupportedRequestError(route.name, req.attempts);
  }
  const end = decideExhausted(route, req.attempts, health, now(), req.deadlineAt);
  throw new AllTargetsFailedError(route.name, req.attempts, end.reason, end.retryAfterSeconds);
}

/** Whether no target of the route (planned or not) can serve the request: only then is it the client's 400. */
function everyTargetUnsupported(route: Route, reach: TargetReach): boolean {
  return route.targets.every((t) => 'unsupported' in reach(t));
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
