/**
 * Per-target state kept by target key (`route/target`) across config
 * reloads: adopting a config keeps the state of targets whose route and
 * name are unchanged, makes it for new ones and drops the rest. Target
 * health (target-health.ts) and the round-robin weights (balancer.ts) are
 * kept in one each.
 */
import type { Route, RuntimeConfig, Target } from './config/runtime-config.ts';

export class TargetKeyed<T> {
  private readonly byKey = new Map<string, T>();
  private readonly make: (route: Route, target: Target) => T;

  constructor(make: (route: Route, target: Target) => T) {
    this.make = make;
  }

  /** Adopts a new config; `each` is called with every live target's state, kept or new. */
  adopt(config: RuntimeConfig, each?: (state: T, route: Route, target: Target) => void): void {
    const live = new Set<string>();
    for (const route of config.routes) {
      for (const target of route.targets) {
        live.add(target.key);
        let state = this.byKey.get(target.key);
        if (state === undefined) this.byKey.set(target.key, (state = this.make(route, target)));
        each?.(state, route, target);
      }
    }
    for (const key of this.byKey.keys()) if (!live.has(key)) this.byKey.delete(key);
  }

  /** The state of a target of the adopted config; undefined for one of a config replaced since. */
  get(target: Target): T | undefined {
    return this.byKey.get(target.key);
  }

  entries(): IterableIterator<[string, T]> {
    return this.byKey.entries();
  }
}
