/**
 * Each route's retry budget and hedge budget (share-budget.ts), per pod,
 * kept by route name across config reloads as target health is: a reload
 * in the middle of an outage does not hand a degraded route a fresh budget.
 * A route that drops `hedge` drops its hedge budget; one that changes its
 * budget's window starts that budget's count afresh.
 */
import type { Route, RuntimeConfig } from './config/runtime-config.ts';
import { ShareBudget, type ShareBudgetPolicy } from './share-budget.ts';

/** "The route's recent requests" of hedge.budgetPercent: the last 10 s. */
export const HEDGE_WINDOW_MS = 10_000;

export interface RouteBudget {
  /** Retries (same target) and fallbacks (next target) spend it; a request's first try is free. */
  readonly retry: ShareBudget;
  /** Hedges spend it; undefined when the route does not hedge. */
  hedge: ShareBudget | undefined;
}

export function retryBudgetPolicy(route: Route): ShareBudgetPolicy {
  const b = route.retryBudget;
  return { ratio: b.ratio, reservePerSecond: b.minPerSecond, windowMs: b.windowMs };
}

export function hedgeBudgetPolicy(route: Route): ShareBudgetPolicy | undefined {
  return route.hedge ? { ratio: route.hedge.budgetRatio, reservePerSecond: 0, windowMs: HEDGE_WINDOW_MS } : undefined;
}

export class RouteBudgets {
  private readonly byRoute = new Map<string, RouteBudget>();

  adopt(config: RuntimeConfig): void {
    const live = new Set<string>();
    for (const route of config.routes) {
      live.add(route.name);
      const hedge = hedgeBudgetPolicy(route);
      const b = this.byRoute.get(route.name);
      if (!b) {
        this.byRoute.set(route.name, { retry: new ShareBudget(retryBudgetPolicy(route)), hedge: hedge && new ShareBudget(hedge) });
        continue;
      }
      b.retry.setPolicy(retryBudgetPolicy(route));
      if (!hedge) b.hedge = undefined;
      else if (b.hedge) b.hedge.setPolicy(hedge);
      else b.hedge = new ShareBudget(hedge);
    }
    for (const name of this.byRoute.keys()) if (!live.has(name)) this.byRoute.delete(name);
  }

  /** The budgets of a route of the adopted config (by name); undefined for a route that left it. */
  for(route: Route): RouteBudget | undefined {
    return this.byRoute.get(route.name);
  }
}
