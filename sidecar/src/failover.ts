/**
 * The failover loop: runs one client request through a route's targets
 * until one commits. It only carries out what failover-policy.ts decides
 * after each try (sleeps before a retry, moves on, throws), hands the
 * health changes to HealthRegistry and reports to the RequestObserver.
 * Returns the committed result or throws a typed error (errors.ts).
 *
 * Retries and fallbacks spend the route's retry budget (route-budgets.ts);
 * once it is spent a failed try is not retried, and the request moves on to
 * its next target at once. A route with `hedge` runs its hedgeable requests
 * through hedged-failover.ts instead; every other request takes this loop,
 * which sets no timer and makes no AbortController of its own.
 */
import { attempt, type AttemptResult } from './attempt.ts';
import { planTargets, RoundRobinWeights, waitMs, type PickInput } from './balancer.ts';
import type { Route, Target } from './config/runtime-config.ts';
import type { ErrorClass } from './error-classes.ts';
import { AllTargetsFailedError, ClientClosedError, type AttemptRecord } from './errors.ts';
import { decide } from './failover-policy.ts';
import { countsTries, endOfPlan, recordCommitted, recordFailure, recordUnsupported, rejected, sleep } from './failover-steps.ts';
import { hedgeable, runHedged } from './hedged-failover.ts';
import type { EndpointKind, ProviderAdapter, ProviderName } from './providers/types.ts';
import { SILENT_OBSERVER, type RequestObserver } from './request-observer.ts';
import type { RouteBudgets } from './route-budgets.ts';
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
  /** Each route's retry and hedge budgets; without them nothing is budgeted (hedges unlimited). */
  budgets?: RouteBudgets | undefined;
  /** Timers of the hedged loop; tests put fake ones here. Default setTimeout / clearTimeout. */
  timers?: HedgeTimers | undefined;
}

export interface HedgeTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
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
  /** Hedges started (hedged routes only; the x-llmroute-hedges header). */
  hedges?: number | undefined;
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
  const t0 = now();
  // Only least-latency and affinity read more than the route and health: the default plans without.
  const pick: PickInput | undefined = route.latency || route.affinity ? { random, stream: req.stream, affinityHash: req.affinityHash, affinity: undefined } : undefined;
  const plan = planTargets(route, health, deps.weights ?? new RoundRobinWeights(), t0, pick);
  if (route.affinity) observer.affinity(route, req.affinityHash === undefined ? 'nokey' : (pick!.affinity ?? 'hit'));
  // A plan of one target that cannot take traffic yet (all were out): it is tried anyway.
  const forced = plan.length === 1 && waitMs(health.get(plan[0]!), t0) > 0;
  const budget = deps.budgets?.for(route);
  // A request's first try is free: it only deposits its share.
  budget?.retry.request(t0);
  if (route.hedge) {
    budget?.hedge?.request(t0);
    if (hedgeable(route.hedge, req.body)) return runHedged(req, deps, route.hedge, plan, forced, budget);
  }
  const retryBudget = budget?.retry;
  // Tries in flight: least-latency's cost, and what rate-limit headers have not counted yet.
  const counted = countsTries(route);
  let previous: { target: Target; reason: ErrorClass } | undefined;

  // The plan walked as before hedging existed (hedged-failover.ts shares it through reachNext,
  // which allocates its answer: this loop, which every unhedged request takes, does not).
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
      // A fallback spends the budget too, and still happens when it is spent: one try per target.
      retryBudget?.spend(now());
    }

    // `retry` counts the retries of retry.attempts; a retry without a refused parameter is not one.
    for (let retry = 0; ; ) {
      const remainingMs = req.deadlineAt - now();
      if (remainingMs <= 0) throw new AllTargetsFailedError(route.name, req.attempts, 'deadline');
      if (counted) health.trySent(h);
      const sentAt = route.latency ? performance.now() : 0;
      let result: AttemptResult;
      try {
        result = await tryOnce({ route, target, adapter, kind: req.kind, body, stream: req.stream, signal: req.signal, remainingMs, refused: h.refusedParams, clientHeaders: req.clientHeaders });
      } finally {
        if (counted) health.tryDone(h);
      }
      if (result.ok) {
        recordCommitted(req, target, h, result, sentAt, counted, health, observer, now);
        return { ...result, target };
      }
      const f = result.failure;
      if (f.unsupported) {
        recordUnsupported(req, target, h, f, health, observer, now());
        break;
      }
      const t = now();
      const d = decide(f, route, retry, h, t, req.deadlineAt, random, retryBudget ? retryBudget.allows(t) : true);
      if (d.action === 'abandon') throw new ClientClosedError();
      recordFailure(req, target, h, f, d, health, observer, now);

      if (d.action === 'retry') {
        retryBudget?.spend(t);
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
      if (d.retryDenied) observer.retryBudgetExhausted(route, target);
      if (d.action === 'reject') throw rejected(f, req.attempts);
      if (d.action === 'fail') throw new AllTargetsFailedError(route.name, req.attempts, d.reason, d.retryAfterSeconds);
      previous = { target, reason: d.reason };
      break;
    }
  }
  throw endOfPlan(req, plan, health, now());
}
