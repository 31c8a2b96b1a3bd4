/**
 * Chooses the order in which one request tries a route's targets. Pure but
 * for the round-robin running weights it advances (RoundRobinWeights, its
 * own state; target health is only read).
 *
 * - Lower priority first. Within a priority, the first choice is made by
 *   smooth weighted round robin among the targets that can take traffic
 *   now (circuit not open, not cooling down after a 429); the others of
 *   that priority follow by weight, then its standbys (weight 0).
 * - When no target can take traffic, the one that becomes free soonest is
 *   tried anyway, rather than failing at once.
 */
import type { Route, RuntimeConfig, Target } from './config/runtime-config.ts';
import type { HealthReader, HealthView } from './target-health.ts';
import { TargetKeyed } from './target-keyed.ts';

/** Smooth weighted round robin's running weight of one target. */
interface RunningWeight {
  current: number;
}

/**
 * The running weights, by target key, kept across config reloads as target
 * health is: a reload does not restart the rotation.
 */
export class RoundRobinWeights {
  private readonly targets = new TargetKeyed<RunningWeight>(() => ({ current: 0 }));

  adopt(config: RuntimeConfig): void {
    this.targets.adopt(config);
  }

  /** A target of the adopted config keeps its weight; one of a config replaced since starts from 0 each time. */
  of(target: Target): RunningWeight {
    return this.targets.get(target) ?? { current: 0 };
  }
}

/** Milliseconds until the target can take traffic (0 = now). */
export function waitMs(h: HealthView, now: number): number {
  return Math.max(h.breaker.waitMs(now), h.cooldownUntil - now, 0);
}

export function planTargets(route: Route, health: HealthReader, weights: RoundRobinWeights, now: number): Target[] {
  const plan: Target[] = [];
  const targets = route.targets; // sorted by priority
  let i = 0;
  while (i < targets.length) {
    const priority = targets[i]!.priority;
    let j = i;
    while (j < targets.length && targets[j]!.priority === priority) j++;
    pickGroup(targets, i, j, health, weights, now, plan);
    i = j;
  }
  if (plan.length === 0 && targets.length > 0) {
    let best = targets[0]!;
    let bestWait = Infinity;
    for (const t of targets) {
      const w = waitMs(health.get(t), now);
      if (w < bestWait) {
        best = t;
        bestWait = w;
      }
    }
    plan.push(best);
  }
  return plan;
}

function pickGroup(targets: Target[], from: number, to: number, health: HealthReader, weights: RoundRobinWeights, now: number, plan: Target[]): void {
  if (to - from === 1) {
    const t = targets[from]!;
    if (waitMs(health.get(t), now) === 0) plan.push(t);
    return;
  }
  const weighted: Target[] = [];
  const standby: Target[] = [];
  let total = 0;
  for (let k = from; k < to; k++) {
    const t = targets[k]!;
    if (waitMs(health.get(t), now) > 0) continue;
    if (t.weight > 0) {
      weighted.push(t);
      total += t.weight;
    } else standby.push(t);
  }
  if (weighted.length) {
    let chosen = weighted[0]!;
    let chosenWeight: RunningWeight | undefined;
    for (const t of weighted) {
      const w = weights.of(t);
      w.current += t.weight;
      if (!chosenWeight || w.current > chosenWeight.current) {
        chosen = t;
        chosenWeight = w;
      }
    }
    chosenWeight!.current -= total;
    plan.push(chosen);
    if (weighted.length > 1) {
      const rest = weighted.filter((t) => t !== chosen).sort((a, b) => b.weight - a.weight);
      for (const t of rest) plan.push(t);
    }
  }
  for (const t of standby) plan.push(t);
}
