/**
 * The failover loop of a hedged request (a route with `hedge`; README,
 * "Hedged requests"). The request runs as the failover loop runs it (same
 * policy, same plan, same records), in one *lane*; when no lane has
 * committed `hedge.after` after the start, a second lane starts the same
 * request on the next target of the plan (the one the first would fall back
 * to), and so on every `after` up to `maxExtra` hedges, each while the
 * route's hedge budget allows. The first lane to commit wins: every other
 * lane's try is aborted through its own AbortController (undici closes its
 * upstream connection, so the provider stops generating), recorded as
 * `hedged-out`, and gives back the half-open probe it may hold; being
 * aborted is no failure for its breaker.
 *
 * The lanes share one cursor over the plan, so each target is tried by one
 * lane only. A lane whose try fails while another lane is still running
 * ends there: the other lane is its fallback (no retry, no backoff, no
 * third target while a try is in flight). The last lane running carries on
 * through the plan as the plain loop would. A decision that ends the request
 * (the provider's error goes back, the deadline, the client gone) ends it
 * for every lane. Commit points are the plain loop's: a stream's first
 * content chunk, a non-stream request's whole answer.
 */
import type { AttemptResult } from './attempt.ts';
import { attempt } from './attempt.ts';
import type { HedgePolicy, Target } from './config/runtime-config.ts';
import type { ErrorClass } from './error-classes.ts';
import { AllTargetsFailedError, ClientClosedError } from './errors.ts';
import { decide } from './failover-policy.ts';
import { countsTries, endOfPlan, reachNext, recordCommitted, recordFailure, recordUnsupported, rejected, sleep, type Reached } from './failover-steps.ts';
import type { Committed, FailoverDeps, FailoverRequest, HedgeTimers } from './failover.ts';
import { SILENT_OBSERVER, type RequestObserver } from './request-observer.ts';
import type { RouteBudget } from './route-budgets.ts';
import type { HealthRegistry } from './target-health.ts';

/** Whether a request of a hedged route may be hedged: not one with tools when the route says `skipWithTools`. */
export function hedgeable(policy: HedgePolicy, body: Record<string, unknown>): boolean {
  return !(policy.skipWithTools && offersTools(body));
}

function offersTools(body: Record<string, unknown>): boolean {
  const tools = body.tools;
  const functions = body.functions;
  return (Array.isArray(tools) && tools.length > 0) || (Array.isArray(functions) && functions.length > 0);
}

const REAL_TIMERS: HedgeTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Lane {
  /** 0: the request's first lane; 1 and up: its hedges. */
  readonly n: number;
  readonly controller: AbortController;
  /** The try in flight, while there is one. */
  current: Reached | undefined;
  /** Aborted: another lane decided the request. */
  cancelled: boolean;
  /** Its loop has returned or thrown. */
  ended: boolean;
}

export function runHedged(req: FailoverRequest, deps: FailoverDeps, policy: HedgePolicy, plan: readonly Target[], forced: boolean, budget: RouteBudget | undefined): Promise<Committed> {
  return new HedgedRun(req, deps, policy, plan, forced, budget).start();
}

class HedgedRun {
  private readonly req: FailoverRequest;
  private readonly deps: FailoverDeps;
  private readonly policy: HedgePolicy;
  private readonly plan: readonly Target[];
  private readonly forced: boolean;
  private readonly budget: RouteBudget | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly tryOnce: typeof attempt;
  private readonly observer: RequestObserver;
  private readonly health: HealthRegistry;
  private readonly timers: HedgeTimers;
  private readonly lanes: Lane[] = [];
  /** The plan's next untaken target. */
  private next = 0;
  private running = 0;
  private settled = false;
  private timer: unknown;
  private resolve!: (c: Committed) => void;
  private reject!: (err: unknown) => void;
  private readonly onAbort = (): void => {
    for (const lane of this.lanes) lane.controller.abort(this.req.signal.reason);
  };

  constructor(req: FailoverRequest, deps: FailoverDeps, policy: HedgePolicy, plan: readonly Target[], forced: boolean, budget: RouteBudget | undefined) {
    this.req = req;
    this.deps = deps;
    this.policy = policy;
    this.plan = plan;
    this.forced = forced;
    this.budget = budget;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.tryOnce = deps.attempt ?? attempt;
    this.observer = deps.observer ?? SILENT_OBSERVER;
    this.health = deps.health;
    this.timers = deps.timers ?? REAL_TIMERS;
    req.hedges ??= 0;
  }

  start(): Promise<Committed> {
    return new Promise<Committed>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.req.signal.addEventListener('abort', this.onAbort, { once: true });
      this.launch(undefined);
      this.arm();
    });
  }

  /** The next hedge, `after` from now, while the request may start more. */
  private arm(): void {
    if (this.settled || this.req.hedges! >= this.policy.maxExtra) return;
    this.timer = this.timers.set(() => this.hedge(), this.policy.afterMs);
  }

  private hedge(): void {
    this.timer = undefined;
    if (this.settled) return;
    const t = this.now();
    if (this.req.deadlineAt - t <= 0) return;
    const b = this.budget?.hedge;
    if (b && !b.allows(t)) {
      // No more hedges for this request: the next one would be past the budget too.
      this.observer.hedge(this.req.route, undefined, 'denied');
      return;
    }
    const step = reachNext(this.req, this.deps, this.observer, this.health, this.plan, this.next, this.forced, t);
    this.next = step.next;
    // No target left to hedge to: the lanes running finish the request.
    if (!step.reached) return;
    b?.spend(t);
    this.req.hedges!++;
    this.observer.hedge(this.req.route, step.reached.target, 'started');
    this.launch(step.reached);
    this.arm();
  }

  private launch(first: Reached | undefined): void {
    const lane: Lane = { n: this.lanes.length, controller: new AbortController(), current: undefined, cancelled: false, ended: false };
    if (this.req.signal.aborted) lane.controller.abort(this.req.signal.reason);
    this.lanes.push(lane);
    this.running++;
    // The lane settles the request itself (leave, end, win), in the tick it decides; a throw here is a bug.
    this.runLane(lane, first).catch((err: unknown) => this.end(lane, err));
  }

  private settle(): void {
    this.settled = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.req.signal.removeEventListener('abort', this.onAbort);
  }

  /** Aborts every lane but `winner`: their tries in flight are recorded `hedged-out`. */
  private cancelOthers(winner: Lane | undefined): void {
    const { route } = this.req;
    for (const lane of this.lanes) {
      if (lane === winner || lane.cancelled || lane.ended) continue;
      lane.cancelled = true;
      lane.controller.abort('hedged-out');
      const c = lane.current;
      if (c) {
        lane.current = undefined;
        this.req.attempts.push({ target: c.target.name, class: 'hedged-out', status: null });
        // Aborted on purpose: no failure for its breaker, and the half-open probe it may hold goes back.
        this.health.release(c.h, this.now());
        this.observer.attemptFinished(route, c.target, 'hedged-out');
        this.observer.hedgeWasted(route, c.target, promptTokensEstimate(c.body));
      }
      if (lane.n > 0) this.observer.hedge(route, c?.target, 'lost');
    }
  }

  /** Whether a lane other than this one is still running (then it is this one's fallback). */
  private othersRunning(): boolean {
    return this.running > 1;
  }

  /**
   * A lane leaves at once, not a tick later: a lane failing right after this one must see it gone
   * (othersRunning). The last one to leave without a commit ends the request as the plan's end.
   */
  private leave(lane: Lane): undefined {
    if (lane.ended) return undefined;
    lane.ended = true;
    this.running--;
    if (this.running === 0 && !this.settled) {
      this.settle();
      this.reject(endOfPlan(this.req, this.plan, this.health, this.now()));
    }
    return undefined;
  }

  /** A lane's decision ends the request (the provider's error, the deadline, the client gone): for every lane. */
  private end(lane: Lane, err: unknown): undefined {
    if (!lane.ended) {
      lane.ended = true;
      this.running--;
    }
    if (this.settled) return undefined;
    this.settle();
    this.cancelOthers(lane);
    this.reject(err);
    return undefined;
  }

  /** A lane committed first: it wins, the others are aborted. */
  private win(lane: Lane, committed: Committed): Committed {
    lane.ended = true;
    this.running--;
    this.settle();
    this.cancelOthers(lane);
    if (lane.n > 0) this.observer.hedge(this.req.route, committed.target, 'won');
    this.resolve(committed);
    return committed;
  }

  /** One lane: the plain loop's tries over the shared plan, from `first` or the plan's next target. */
  private async runLane(lane: Lane, first: Reached | undefined): Promise<Committed | undefined> {
    const { req, health, observer } = this;
    const { route } = req;
    const now = this.now;
    const retryBudget = this.budget?.retry;
    let previous: { target: Target; reason: ErrorClass } | undefined;
    let reached = first;
    for (;;) {
      if (lane.cancelled) return this.leave(lane);
      if (!reached) {
        const step = reachNext(req, this.deps, observer, health, this.plan, this.next, this.forced, now());
        this.next = step.next;
        if (!step.reached) return this.leave(lane);
        reached = step.reached;
      }
      const { target, adapter, body, h } = reached;
      reached = undefined;
      if (previous) {
        req.fallbacks++;
        observer.fellBack(route, previous.target, target, previous.reason);
        retryBudget?.spend(now());
      }
      for (let retry = 0; ; ) {
        const remainingMs = req.deadlineAt - now();
        if (remainingMs <= 0) return this.end(lane, new AllTargetsFailedError(route.name, req.attempts, 'deadline'));
        lane.current = { target, adapter, body, h };
        const counted = countsTries(route);
        if (counted) health.trySent(h);
        const sentAt = route.latency ? performance.now() : 0;
        let result: AttemptResult;
        try {
          result = await this.tryOnce({ route, target, adapter, kind: req.kind, body, stream: req.stream, signal: lane.controller.signal, remainingMs, refused: h.refusedParams, clientHeaders: req.clientHeaders });
        } finally {
          if (counted) health.tryDone(h);
        }
        lane.current = undefined;
        if (lane.cancelled) {
          discard(result);
          return this.leave(lane);
        }
        if (result.ok) {
          // Only the winner's latency is noted: a loser's was cut short (censored), which would only flatter it.
          recordCommitted(req, target, h, result, sentAt, counted, health, observer, now);
          return this.win(lane, { ...result, target });
        }
        const f = result.failure;
        if (f.unsupported) {
          recordUnsupported(req, target, h, f, health, observer, now());
          break;
        }
        const t = now();
        const d = decide(f, route, retry, h, t, req.deadlineAt, this.random, retryBudget ? retryBudget.allows(t) : true);
        if (d.action === 'abandon') return this.end(lane, new ClientClosedError());
        recordFailure(req, target, h, f, d, health, observer, now);

        if (d.action === 'retry') {
          // Another lane's try is in flight: it is this one's fallback, no need to wait and retry here.
          if (this.othersRunning()) return this.leave(lane);
          retryBudget?.spend(t);
          await sleep(d.waitMs, lane.controller.signal);
          if (lane.cancelled) return this.leave(lane);
          if (req.signal.aborted) {
            if (req.signal.reason === 'client-closed') return this.end(lane, new ClientClosedError());
            return this.end(lane, new AllTargetsFailedError(route.name, req.attempts, 'deadline'));
          }
          // A hedge started during the backoff: it goes on, this lane ends.
          if (this.othersRunning()) return this.leave(lane);
          retry++;
          continue;
        }
        if (d.action === 'retry-without') {
          observer.paramRefused(route, target, d.param);
          continue;
        }
        if (d.retryDenied) observer.retryBudgetExhausted(route, target);
        if (d.action === 'reject') return this.end(lane, rejected(f, req.attempts));
        if (d.action === 'fail') return this.end(lane, new AllTargetsFailedError(route.name, req.attempts, d.reason, d.retryAfterSeconds));
        previous = { target, reason: d.reason };
        if (this.othersRunning()) return this.leave(lane);
        break;
      }
    }
  }
}

/** A try that came back after its lane was cancelled: a stream it committed meanwhile is closed. */
function discard(result: AttemptResult): void {
  if (result.ok && result.kind === 'stream') result.session.destroy();
}

/** A try's prompt in tokens, roughly: UTF-8 bytes of its strings / 4 (as the count_tokens estimate), an inline image or file at a fixed cost. */
export const IMAGE_TOKENS = 1600;
const MAX_DEPTH = 12;

export function promptTokensEstimate(body: Record<string, unknown>): number {
  let bytes = 0;
  let images = 0;
  const walk = (v: unknown, depth: number, key: string): void => {
    if (typeof v === 'string') {
      // Base64 media (data: URLs, Anthropic's source.data, Responses' image_url / file_data) is not text.
      if (v.startsWith('data:') || ((key === 'data' || key === 'file_data') && v.length > 256)) images++;
      else bytes += Buffer.byteLength(v, 'utf8');
      return;
    }
    if (depth > MAX_DEPTH || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) for (const x of v) walk(x, depth + 1, key);
    else for (const k in v as Record<string, unknown>) walk((v as Record<string, unknown>)[k], depth + 1, k);
  };
  for (const k of ['system', 'instructions', 'messages', 'input', 'prompt', 'tools', 'functions']) walk(body[k], 0, k);
  return Math.ceil(bytes / 4) + images * IMAGE_TOKENS;
}
