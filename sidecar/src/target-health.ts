/**
 * The live health of every target: its circuit breaker and its rate-limit
 * cooldown. Kept by target key (`route/target`) across config reloads, so a
 * reload does not forget that a provider is down. The balancer reads it
 * (HealthView).
 */
import { CircuitBreaker, type BreakerView, type CircuitState } from './breaker.ts';
import type { RuntimeConfig, Target } from './config/runtime-config.ts';
import { TargetKeyed } from './target-keyed.ts';

/** A target's health as its readers see it. */
export interface HealthView {
  readonly breaker: BreakerView;
  /** Rate-limited until this time (ms since epoch); 0 when not cooling down. */
  readonly cooldownUntil: number;
}

export interface TargetHealth extends HealthView {
  readonly breaker: CircuitBreaker;
  cooldownUntil: number;
}

/** Where readers look a target's health up. */
export interface HealthReader {
  get(target: Target): HealthView;
}

/** The breaker of a target from a config replaced while its request ran. */
const STALE_BREAKER = { consecutiveFailures: 5, openForMs: 30_000 };

export class HealthRegistry implements HealthReader {
  private readonly targets = new TargetKeyed<TargetHealth>((route) => ({ breaker: new CircuitBreaker(route.breaker), cooldownUntil: 0 }));
  onCircuitChange?: ((target: Target, state: CircuitState) => void) | undefined;

  /** Adopts a new config: keeps the state of targets whose route and name are unchanged, drops the rest. */
  adopt(config: RuntimeConfig): void {
    this.targets.adopt(config, (h, route, target) => {
      h.breaker.policy = route.breaker;
      h.breaker.onChange = (state) => this.onCircuitChange?.(target, state);
    });
  }

  get(target: Target): TargetHealth {
    return this.targets.get(target) ?? { breaker: new CircuitBreaker(STALE_BREAKER), cooldownUntil: 0 };
  }

  entries(): IterableIterator<[string, TargetHealth]> {
    return this.targets.entries();
  }
}
