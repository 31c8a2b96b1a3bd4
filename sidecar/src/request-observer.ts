/**
 * What a request reports as it runs, in one interface: the failover loop's
 * tries, fallbacks and cooldowns, the circuit changes they cause, and the
 * API server's answers. MetricsLogObserver feeds them to Metrics and the
 * Logger (the metrics of SPEC section 6, and the log lines). It is made
 * once per sidecar and its methods take plain arguments, so reporting
 * allocates nothing per request beyond the log lines it writes.
 */
import type { Logger } from '../../common/log.ts';
import type { AffinityOutcome } from './affinity.ts';
import type { Failure } from './attempt.ts';
import type { CircuitState } from './breaker.ts';
import type { Route, Target } from './config/runtime-config.ts';
import type { ErrorClass } from './error-classes.ts';
import type { AttemptRecord } from './errors.ts';
import type { Metrics } from './metrics.ts';
import type { Usage } from './providers/types.ts';
import type { StreamFailure } from './stream-relay.ts';
import type { ApiName } from './surfaces/types.ts';

export type HedgeOutcome = 'started' | 'won' | 'lost' | 'denied';

/** How far a request got: its tries so far and its moves to another target (FailoverRequest has them). */
export interface RequestProgress {
  readonly attempts: readonly AttemptRecord[];
  readonly fallbacks: number;
  /** The API the client spoke (default chat). */
  readonly api?: ApiName | undefined;
}

export interface RequestObserver {
  /** One try ended: `ok`, the class of its failure, or `hedged-out` (another try of its hedged request decided it). */
  attemptFinished(route: Route, target: Target, outcome: ErrorClass | 'ok' | 'hedged-out', failure?: Failure): void;
  fellBack(route: Route, from: Target, to: Target, reason: ErrorClass): void;
  /** The target was skipped: it cannot serve this request (`why` names the feature). */
  skipped(route: Route, target: Target, why: string): void;
  /** A 429 cooled the target down for `ms`. */
  cooledDown(route: Route, target: Target, ms: number): void;
  /** The target refused a parameter; it is dropped from its requests from now on (once per target and parameter). */
  paramRefused(route: Route, target: Target, param: string): void;
  circuitChanged(target: Target, state: CircuitState): void;
  /** The target's rate-limit headers say it is near its limit: it goes behind its peers for `ms` (rate-limit-headers.ts). */
  rateLimitShifted(route: Route, target: Target, ms: number): void;
  /** The target's average latency is an outlier among its peers': ejected for `ms` (latency-policy.ts). */
  outlierEjected(route: Route, target: Target, ms: number, ewmaMs: number, medianMs: number): void;
  /** A request of an affinity route was planned: its key's own target first (hit), another (moved: health won), or it had no key. */
  affinity(route: Route, outcome: AffinityOutcome): void;
  /** Answered with an error before a route ran (a bad body, an unknown model); `route` is '' when none was found. */
  refused(route: string, status: number, api?: ApiName): void;
  /** The sidecar answered itself, no target could (count_tokens' estimate). */
  answeredLocally(route: Route, progress: RequestProgress, started: number): void;
  /** A whole JSON answer went out. `started` is the request's performance.now(). */
  served(route: Route, target: Target, progress: RequestProgress, usage: Usage | undefined, started: number): void;
  /**
   * A stream committed: its head went out; its first content goes to the client at `firstContentAt`
   * (performance.now()). `heldMs`: with a commit window, how long that content was held.
   */
  streamCommitted(route: Route, target: Target, progress: RequestProgress, firstContentAt: number, started: number, heldMs?: number): void;
  /** A committed stream broke; the client got an error event. */
  streamBroke(route: Route, target: Target, failure: StreamFailure): void;
  /** A committed stream ended, cleanly, broken or with its client gone. */
  streamEnded(route: Route, target: Target, progress: RequestProgress, usage: Usage | undefined, clientGone: boolean, started: number): void;
  /** The request failed with `status` (every target failed, or the provider's error went back). */
  failed(route: Route, progress: RequestProgress, status: number, err: unknown, started: number): void;
  /** The client went away before an answer. */
  clientClosed(route: Route, progress: RequestProgress): void;
  /** A bug: serving a request threw. */
  unexpected(err: unknown): void;
  /** A retry the policy would have made was not: the route's retry budget is spent (README, "Retry budget"). */
  retryBudgetExhausted(route: Route, target: Target): void;
  /**
   * A hedge of a hedged request (README, "Hedged requests"): `started` on `target`; `won` (its try
   * committed first) or `lost` (another try did, or the request ended, and it was aborted); `denied`:
   * one was due but the route's hedge budget is spent (`target` undefined).
   */
  hedge(route: Route, target: Target | undefined, outcome: HedgeOutcome): void;
  /** A try aborted because another try of its hedged request decided it: the tokens it cost, as far as known. */
  hedgeWasted(route: Route, target: Target, tokens: number): void;
}

/** Reports nothing (for tests and callers that watch nothing). */
export const SILENT_OBSERVER: RequestObserver = Object.freeze({
  attemptFinished: noop,
  fellBack: noop,
  skipped: noop,
  cooledDown: noop,
  paramRefused: noop,
  circuitChanged: noop,
  rateLimitShifted: noop,
  outlierEjected: noop,
  affinity: noop,
  refused: noop,
  answeredLocally: noop,
  served: noop,
  streamCommitted: noop,
  streamBroke: noop,
  streamEnded: noop,
  failed: noop,
  clientClosed: noop,
  unexpected: noop,
  retryBudgetExhausted: noop,
  hedge: noop,
  hedgeWasted: noop,
});

function noop(): void {}

/** Seconds since `started` (a performance.now() time). */
function since(started: number): number {
  return (performance.now() - started) / 1000;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class MetricsLogObserver implements RequestObserver {
  private readonly metrics: Metrics;
  private readonly log: Logger;

  constructor(metrics: Metrics, log: Logger) {
    this.metrics = metrics;
    this.log = log;
  }

  attemptFinished(route: Route, target: Target, outcome: ErrorClass | 'ok' | 'hedged-out', failure?: Failure): void {
    this.metrics.attempt(route.name, target.name, outcome);
    if (failure?.inWindow !== undefined) this.metrics.commitWindowFallback(route.name, target.name, failure.inWindow);
    if (failure && this.log.enabled('info')) {
      const fields: Record<string, unknown> = { route: route.name, target: target.name, class: outcome, status: failure.status, error: failure.message };
      if (failure.inWindow !== undefined) fields.commitWindow = failure.inWindow;
      this.log.info('upstream attempt failed', fields);
    }
  }

  fellBack(route: Route, from: Target, to: Target, reason: ErrorClass): void {
    this.metrics.fallback(route.name, from.name, to.name, reason);
    this.log.info('falling back', { route: route.name, from: from.name, to: to.name, reason });
  }

  skipped(route: Route, target: Target, why: string): void {
    this.metrics.skip(route.name, target.name, 'unsupported');
    if (this.log.enabled('debug')) this.log.debug('target skipped: it cannot serve this request', { route: route.name, target: target.name, reason: why });
  }

  cooledDown(route: Route, target: Target, ms: number): void {
    this.metrics.cooldown(route.name, target.name);
    this.log.info('target cooling down after a rate limit', { route: route.name, target: target.name, ms });
  }

  paramRefused(route: Route, target: Target, param: string): void {
    this.log.info('target refuses a parameter: dropping it from its requests', { route: route.name, target: target.name, model: target.model, param });
  }

  circuitChanged(target: Target, state: CircuitState): void {
    this.metrics.circuitState(target.route, target.name, state);
    this.log.warn('circuit state changed', { route: target.route, target: target.name, state });
  }

  rateLimitShifted(route: Route, target: Target, ms: number): void {
    this.metrics.rateLimitShift(route.name, target.name);
    if (this.log.enabled('debug')) this.log.debug('target near its rate limit: behind its peers until the reset', { route: route.name, target: target.name, ms });
  }

  outlierEjected(route: Route, target: Target, ms: number, ewmaMs: number, medianMs: number): void {
    this.metrics.outlierEjection(route.name, target.name);
    this.log.info('target ejected as a latency outlier', { route: route.name, target: target.name, ms, latencyMs: Math.round(ewmaMs), peersMedianMs: Math.round(medianMs) });
  }

  affinity(route: Route, outcome: AffinityOutcome): void {
    this.metrics.affinity(route.name, outcome);
  }

  refused(route: string, status: number, api?: ApiName): void {
    this.metrics.request(route, '', status, api);
  }

  answeredLocally(route: Route, progress: RequestProgress, started: number): void {
    this.metrics.request(route.name, '', 200, progress.api);
    this.metrics.observeDuration(route.name, '', since(started), progress.api);
  }

  served(route: Route, target: Target, progress: RequestProgress, usage: Usage | undefined, started: number): void {
    if (usage) this.metrics.countTokens(route.name, target.name, usage.prompt, usage.completion);
    this.metrics.request(route.name, target.name, 200, progress.api);
    this.metrics.observeDuration(route.name, target.name, since(started), progress.api);
    if (this.log.enabled('debug')) this.log.debug('request served', { route: route.name, target: target.name, attempts: progress.attempts.length, fallbacks: progress.fallbacks });
  }

  streamCommitted(route: Route, target: Target, progress: RequestProgress, firstContentAt: number, started: number, heldMs?: number): void {
    this.metrics.observeTtft(route.name, target.name, (firstContentAt - started) / 1000, progress.api);
    if (heldMs !== undefined) this.metrics.observeCommitHeld(route.name, target.name, heldMs / 1000);
  }

  streamBroke(route: Route, target: Target, failure: StreamFailure): void {
    this.metrics.streamError(route.name, target.name, failure.errorClass);
    this.log.warn('stream failed after it started', { route: route.name, target: target.name, class: failure.errorClass, error: failure.message });
  }

  streamEnded(route: Route, target: Target, progress: RequestProgress, usage: Usage | undefined, clientGone: boolean, started: number): void {
    if (usage) this.metrics.countTokens(route.name, target.name, usage.prompt, usage.completion);
    this.metrics.request(route.name, target.name, clientGone ? 499 : 200, progress.api);
    this.metrics.observeDuration(route.name, target.name, since(started), progress.api);
  }

  failed(route: Route, progress: RequestProgress, status: number, err: unknown, started: number): void {
    this.metrics.request(route.name, '', status, progress.api);
    this.metrics.observeDuration(route.name, '', since(started), progress.api);
    this.log.warn('request failed', { route: route.name, status, attempts: progress.attempts, fallbacks: progress.fallbacks, error: (err as Error).message });
  }

  clientClosed(route: Route, progress: RequestProgress): void {
    this.metrics.request(route.name, '', 499, progress.api);
    this.log.info('client closed the request before an answer', { route: route.name, attempts: progress.attempts.length });
  }

  unexpected(err: unknown): void {
    this.log.error('unexpected error while serving a request', { error: messageOf(err) });
  }

  retryBudgetExhausted(route: Route, target: Target): void {
    this.metrics.retryBudgetExhausted(route.name);
    if (this.log.enabled('debug')) this.log.debug('retry skipped: the route\'s retry budget is spent', { route: route.name, target: target.name });
  }

  hedge(route: Route, target: Target | undefined, outcome: HedgeOutcome): void {
    this.metrics.hedge(route.name, target?.name ?? '', outcome);
    if (this.log.enabled('debug')) this.log.debug('hedge', { route: route.name, target: target?.name, outcome });
  }

  hedgeWasted(route: Route, target: Target, tokens: number): void {
    this.metrics.hedgeWasted(route.name, target.name, tokens);
  }
}
