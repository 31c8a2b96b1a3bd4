/**
 * The live health of every target: its circuit breaker, its rate-limit
 * cooldown, how near its provider's rate limit it is, its latency averages
 * and outlier ejection, and the parameters it refused. Kept by target key (`route/target`) across config reloads, so a
 * reload does not forget that a provider is down. HealthRegistry is the one
 * owner: they change only through admit() and apply(),
 * which carry out what the failover policy (failover-policy.ts) decided.
 * Everyone else reads them (HealthView).
 */
import { CircuitBreaker, type BreakerEvent, type BreakerView, type CircuitState } from './breaker.ts';
import type { Route, RuntimeConfig, Target } from './config/runtime-config.ts';
import { TargetKeyed } from './target-keyed.ts';
import { addSample, outlierVerdict, type LatencyKind, type OutlierVerdict } from './latency-policy.ts';

/** A target's health as the balancer and the failover policy read it. */
export interface HealthView {
  readonly breaker: BreakerView;
  /** Rate-limited until this time (ms since epoch); 0 when not cooling down. */
  readonly cooldownUntil: number;
  /**
   * Near its provider's rate limit (its last answer's headers said so) until this time, the
   * limit's reset: it goes behind its peers of the same priority until then. 0: not near.
   */
  readonly nearLimitUntil: number;
  /** Ejected as a latency outlier until this time: behind its peers until then. 0: not ejected. */
  readonly ejectedUntil: number;
  /** balancing: least-latency: the target's latency averages; undefined until its first try. */
  readonly latency: LatencyStats | undefined;
  /** Tries sent and not yet at their commit point (counted for routes with rateLimitAware or least-latency). */
  readonly inflight: number;
}

/** A time-decayed average latency (latency-policy.ts). */
export interface Ewma {
  /** The average, in ms; meaningless while `samples` is 0. */
  ms: number;
  /** When the last sample came (ms since epoch). */
  at: number;
  /** Samples since the target was last ejected (or first seen). */
  samples: number;
}

/** A target's latency as least-latency balancing sees it: streams and whole answers apart. */
export interface LatencyStats {
  /** Streams: time to the first content (the commit point). */
  stream: Ewma;
  /** Whole (non-stream) answers: time to the whole answer. */
  whole: Ewma;
}

export interface TargetHealth extends HealthView {
  readonly breaker: CircuitBreaker;
  cooldownUntil: number;
  nearLimitUntil: number;
  ejectedUntil: number;
  latency: LatencyStats | undefined;
  inflight: number;
  /** Parameters this target refused ("`temperature` is deprecated for this model"): dropped up front. Undefined: none. */
  refusedParams: Set<string> | undefined;
  /** What the target is (provider, baseURL, model): a reload that changes it forgets what it refused. */
  refusedBy: string;
}

/** Where readers look a target's health up. */
export interface HealthReader {
  get(target: Target): HealthView;
}

/** What one outcome does to a target's health. */
export interface HealthChange {
  /** What the breaker is told, if anything. */
  readonly breaker?: BreakerEvent | undefined;
  /** Cooling down until this time (ms since epoch), after a 429 with Retry-After. */
  readonly cooldownUntil?: number | undefined;
  /** That Retry-After, in ms (for the observer: apply() reads cooldownUntil). */
  readonly cooldownMs?: number | undefined;
  /** A parameter the target refused: dropped from its requests from now on. */
  readonly refusedParam?: string | undefined;
}

/** The breaker of a target from a config replaced while its request ran. */
const STALE_BREAKER = { consecutiveFailures: 5, openForMs: 30_000 };

export class HealthRegistry implements HealthReader {
  private readonly targets = new TargetKeyed<TargetHealth>((route) => newHealth(new CircuitBreaker(route.breaker)));
  onCircuitChange?: ((target: Target, state: CircuitState) => void) | undefined;

  /**
   * Adopts a new config: keeps the state of targets whose route and name are unchanged, drops the
   * rest; the parameters a target refused are kept while its provider, baseURL and model are too.
   */
  adopt(config: RuntimeConfig): void {
    this.targets.adopt(config, (h, route, target) => {
      h.breaker.policy = route.breaker;
      h.breaker.onChange = (state) => this.onCircuitChange?.(target, state);
      const by = refusalKey(target);
      if (h.refusedBy !== by) {
        h.refusedParams = undefined;
        h.refusedBy = by;
      }
    });
  }

  get(target: Target): TargetHealth {
    return this.targets.get(target) ?? newHealth(new CircuitBreaker(STALE_BREAKER));
  }

  entries(): IterableIterator<[string, TargetHealth]> {
    return this.targets.entries();
  }

  /** Takes the target for one try: false when its breaker says skip it (open, or another request holds the probe). */
  admit(h: TargetHealth, now: number): boolean {
    return h.breaker.acquire(now);
  }

  /** Gives back what admit() took when the try was never sent (the target could not express the request). */
  release(h: TargetHealth, now: number): void {
    h.breaker.release(now);
  }

  /** Carries out a change the failover policy decided; the clock is read only for a failure or a trip. */
  apply(h: TargetHealth, change: HealthChange, now: () => number): void {
    switch (change.breaker) {
      case 'success':
        h.breaker.success();
        break;
      case 'failure':
        h.breaker.failure(now());
        break;
      case 'trip':
        h.breaker.trip(now());
        break;
      case undefined:
        break;
    }
    if (change.cooldownUntil !== undefined) h.cooldownUntil = change.cooldownUntil;
    if (change.refusedParam !== undefined) (h.refusedParams ??= new Set()).add(change.refusedParam);
  }

  /**
   * An answer's rate-limit headers said the target is near its limit until `until` (0: it is not,
   * which ends a shift early). True when this starts a shift (it was not near before).
   */
  noteNearLimit(h: TargetHealth, until: number, now: number): boolean {
    const was = h.nearLimitUntil > now;
    h.nearLimitUntil = until;
    return until > now && !was;
  }

  /** A try is sent: counted in flight until tryDone (its commit point or its failure). */
  trySent(h: TargetHealth): void {
    h.inflight++;
  }

  tryDone(h: TargetHealth): void {
    h.inflight = Math.max(0, h.inflight - 1);
  }

  /**
   * A least-latency route's try committed after `ms`: one more sample of its average, and the
   * outlier verdict (latency-policy.ts); an outlier is ejected now, its averages started afresh.
   */
  noteLatency(route: Route, target: Target, h: TargetHealth, kind: LatencyKind, ms: number, now: number): OutlierVerdict | undefined {
    const p = route.latency;
    if (!p) return undefined;
    const stats = (h.latency ??= newLatencyStats());
    addSample(stats[kind], ms, now, p.tauMs);
    const verdict = outlierVerdict(route, target, this, kind, now);
    if (verdict) {
      h.ejectedUntil = now + p.ejectForMs;
      stats.stream.samples = 0;
      stats.whole.samples = 0;
    }
    return verdict;
  }
}

export function newLatencyStats(): LatencyStats {
  return { stream: { ms: 0, at: 0, samples: 0 }, whole: { ms: 0, at: 0, samples: 0 } };
}

function newHealth(breaker: CircuitBreaker): TargetHealth {
  return { breaker, cooldownUntil: 0, nearLimitUntil: 0, ejectedUntil: 0, latency: undefined, inflight: 0, refusedParams: undefined, refusedBy: '' };
}

/** What a refusal belongs to: the same name with another model may take the parameter. */
function refusalKey(t: Target): string {
  return `${t.provider} ${t.baseURL} ${t.model}`;
}
