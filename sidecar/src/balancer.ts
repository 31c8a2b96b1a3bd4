/**
 * Chooses the order in which one request tries a route's targets. Pure but
 * for the round-robin counters it advances in `health`.
 *
 * - Lower priority first. Within a priority, the first choice is made by
 *   smooth weighted round robin among the targets that can take traffic
 *   now (circuit not open, not cooling down after a 429); the others of
 *   that priority follow by weight, then its standbys (weight 0).
 * - When no target can take traffic, the one that becomes free soonest is
 *   tried anyway, rather than failing at once.
 */
import type { Route, Target } from './config/runtime-config.ts';
import type { TargetHealth } from './target-health.ts';

export type HealthOf = (target: Target) => TargetHealth;

/** Milliseconds until the target can take traffic (0 = now). */
export function waitMs(h: TargetHealth, now: number): number {
  return Math.max(h.breaker.waitMs(now), h.cooldownUntil - now, 0);
}

export function planTargets(route: Route, healthOf: HealthOf, now: number): Target[] {
  const plan: Target[] = [];
  const targets = route.targets; // sorted by priority
  let i = 0;
  while (i < targets.length) {
    const priority = targets[i]!.priority;
    let j = i;
    while (j < targets.length && targets[j]!.priority === priority) j++;
    pickGroup(targets, i, j, healthOf, now, plan);
    i = j;
  }
  if (plan.length === 0 && targets.length > 0) {
    let best = targets[0]!;
    let bestWait = Infinity;
    for (const t of targets) {
      const w = waitMs(healthOf(t), now);
      if (w < bestWait) {
        best = t;
        bestWait = w;
      }
    }
    plan.push(best);
  }
  return plan;
}

function pickGroup(targets: Target[], from: number, to: number, healthOf: HealthOf, now: number, plan: Target[]): void {
  if (to - from === 1) {
    const t = targets[from]!;
    if (waitMs(healthOf(t), now) === 0) plan.push(t);
    return;
  }
  const weighted: Target[] = [];
  const standby: Target[] = [];
  let total = 0;
  for (let k = from; k < to; k++) {
    const t = targets[k]!;
    if (waitMs(healthOf(t), now) > 0) continue;
    if (t.weight > 0) {
      weighted.push(t);
      total += t.weight;
    } else standby.push(t);
  }
  if (weighted.length) {
    let chosen = weighted[0]!;
    let chosenHealth: TargetHealth | undefined;
    for (const t of weighted) {
      const h = healthOf(t);
      h.current += t.weight;
      if (!chosenHealth || h.current > chosenHealth.current) {
        chosen = t;
        chosenHealth = h;
      }
    }
    chosenHealth!.current -= total;
    plan.push(chosen);
    if (weighted.length > 1) {
      const rest = weighted.filter((t) => t !== chosen).sort((a, b) => b.weight - a.weight);
      for (const t of rest) plan.push(t);
    }
  }
  for (const t of standby) plan.push(t);
}
