/**
 * The live state of every target: its circuit breaker, its rate-limit
 * cooldown and its weighted-round-robin counter. Kept by target key
 * (`route/target`) across config reloads, so a reload does not forget that
 * a provider is down.
 */
import { CircuitBreaker, type CircuitState } from './breaker.ts';
import type { RuntimeConfig, Target } from './config/runtime-config.ts';

export interface TargetHealth {
  breaker: CircuitBreaker;
  /** Rate-limited until this time (ms since epoch); 0 when not cooling down. */
  cooldownUntil: number;
  /** Smooth weighted round robin's running weight. */
  current: number;
}

export class HealthRegistry {
  private readonly byKey = new Map<string, TargetHealth>();
  onCircuitChange?: ((target: Target, state: CircuitState) => void) | undefined;

  /** Adopts a new config: keeps the state of targets whose route and name are unchanged, drops the rest. */
  adopt(config: RuntimeConfig): void {
    const live = new Set<string>();
    for (const route of config.routes) {
      for (const target of route.targets) {
        live.add(target.key);
        let h = this.byKey.get(target.key);
        if (!h) {
          h = { breaker: new CircuitBreaker(route.breaker), cooldownUntil: 0, current: 0 };
          this.byKey.set(target.key, h);
        }
        h.breaker.policy = route.breaker;
        h.breaker.onChange = (state) => this.onCircuitChange?.(target, state);
      }
    }
    for (const key of this.byKey.keys()) if (!live.has(key)) this.byKey.delete(key);
  }

  get(target: Target): TargetHealth {
    let h = this.byKey.get(target.key);
    if (!h) {
      // A target from a config that was replaced while this request ran.
      h = { breaker: new CircuitBreaker({ consecutiveFailures: 5, openForMs: 30_000 }), cooldownUntil: 0, current: 0 };
    }
    return h;
  }

  entries(): IterableIterator<[string, TargetHealth]> {
    return this.byKey.entries();
  }
}
