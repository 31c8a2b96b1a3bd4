/**
 * The live health of every target: its circuit breaker, its rate-limit
 * cooldown and the parameters it refused. Kept by target key (`route/target`) across config reloads, so a
 * reload does not forget that a provider is down. HealthRegistry is the one
 * owner: they change only through admit() and apply(),
 * which carry out what the failover policy (failover-policy.ts) decided.
 * Everyone else reads them (HealthView).
 */
import { CircuitBreaker, type BreakerEvent, type BreakerView, type CircuitState } from './breaker.ts';
import type { RuntimeConfig, Target } from './config/runtime-config.ts';
import { TargetKeyed } from './target-keyed.ts';

/** A target's health as the balancer and the failover policy read it. */
export interface HealthView {
  readonly breaker: BreakerView;
  /** Rate-limited until this time (ms since epoch); 0 when not cooling down. */
  readonly cooldownUntil: number;
}

export interface TargetHealth extends HealthView {
  readonly breaker: CircuitBreaker;
  cooldownUntil: number;
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
}

function newHealth(breaker: CircuitBreaker): TargetHealth {
  return { breaker, cooldownUntil: 0, refusedParams: undefined, refusedBy: '' };
}

/** What a refusal belongs to: the same name with another model may take the parameter. */
function refusalKey(t: Target): string {
  return `${t.provider} ${t.baseURL} ${t.model}`;
}
