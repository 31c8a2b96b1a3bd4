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
 * - A target near its provider's rate limit (TargetHealth.nearLimitUntil) or
 *   ejected as a latency outlier (ejectedUntil) goes behind the healthy
 *   weighted targets of its priority, before its standbys; when every
 *   weighted target of the priority is so, they are picked among as usual.
 * - `balancing: least-latency`: the first choice is the cheaper of two
 *   targets drawn by weight (latency-policy.ts costs); the rest follow by
 *   cost. With `affinity` and a request that has a key: the targets in
 *   rendezvous order for the key (affinity.ts), whatever the balancing.
 */
import type { Route, RuntimeConfig, Target } from './config/runtime-config.ts';
import type { HealthReader, HealthView } from './target-health.ts';
import { TargetKeyed } from './target-keyed.ts';
import { rendezvousScore, type AffinityOutcome } from './affinity.ts';
import { costs } from './latency-policy.ts';

/** What a request brings to its plan beyond the route: for least-latency and affinity. */
export interface PickInput {
  random: () => number;
  /** Balanced on the stream average (else the whole answers'). */
  stream: boolean;
  /** The request's session key hash (affinity.ts); undefined when it has none. */
  affinityHash: number | undefined;
  /** Written by planTargets: whether the first choice was the key's own target or it moved (health won). */
  affinity?: AffinityOutcome | undefined;
}

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

/** Whether the target goes behind its peers: near its rate limit, or ejected as an outlier. */
function demoted(h: HealthView, now: number): boolean {
  return h.nearLimitUntil > now || h.ejectedUntil > now;
}

export function planTargets(route: Route, health: HealthReader, weights: RoundRobinWeights, now: number, pick?: PickInput): Target[] {
  const plan: Target[] = [];
  const targets = route.targets; // sorted by priority
  let i = 0;
  while (i < targets.length) {
    const priority = targets[i]!.priority;
    let j = i;
    while (j < targets.length && targets[j]!.priority === priority) j++;
    pickGroup(route, i, j, health, weights, now, plan, pick);
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

function pickGroup(route: Route, from: number, to: number, health: HealthReader, weights: RoundRobinWeights, now: number, plan: Target[], pick: PickInput | undefined): void {
  const targets = route.targets;
  if (to - from === 1) {
    const t = targets[from]!;
    if (waitMs(health.get(t), now) === 0) plan.push(t);
    return;
  }
  let weighted: Target[] = [];
  const standby: Target[] = [];
  // Allocated only when a target is near its rate limit or ejected.
  let back: Target[] | undefined;
  let total = 0;
  for (let k = from; k < to; k++) {
    const t = targets[k]!;
    const h = health.get(t);
    if (waitMs(h, now) > 0) continue;
    if (t.weight > 0) {
      if (demoted(h, now)) (back ??= []).push(t);
      else {
        weighted.push(t);
        total += t.weight;
      }
    } else standby.push(t);
  }
  if (back && weighted.length === 0) {
    // Every weighted target of the priority is near its limit or ejected: none is spared.
    weighted = back;
    back = undefined;
    for (const t of weighted) total += t.weight;
  }
  if (weighted.length) {
    if (pick?.affinityHash !== undefined && route.affinity) byRendezvous(route, from, to, weighted, pick, plan);
    else if (pick && route.latency) byLeastLatency(route, weighted, total, health, now, pick, plan);
    else byRoundRobin(weighted, total, weights, plan);
  }
  // Behind the healthy ones, before the standbys: near its limit or slow is not out.
  if (back) for (const t of back.sort((a, b) => b.weight - a.weight)) plan.push(t);
  for (const t of standby) plan.push(t);
}

/** Smooth weighted round robin: the first choice, then the others by weight. */
function byRoundRobin(weighted: Target[], total: number, weights: RoundRobinWeights, plan: Target[]): void {
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

/** Power of two choices: two targets drawn by weight, the cheaper first; then the rest by cost. */
function byLeastLatency(route: Route, weighted: Target[], total: number, health: HealthReader, now: number, pick: PickInput, plan: Target[]): void {
  const cost = costs(weighted, health, pick.stream ? 'stream' : 'whole', now, route.latency!);
  let first = 0;
  if (weighted.length > 1) {
    const a = drawByWeight(weighted, total, -1, pick.random());
    const b = drawByWeight(weighted, total - weighted[a]!.weight, a, pick.random());
    first = cost[b]! < cost[a]! ? b : a;
  }
  plan.push(weighted[first]!);
  if (weighted.length > 1) {
    const rest = weighted.map((_, i) => i).filter((i) => i !== first).sort((x, y) => cost[x]! - cost[y]! || weighted[y]!.weight - weighted[x]!.weight);
    for (const i of rest) plan.push(weighted[i]!);
  }
}

/** The index of a target drawn by weight, `skip` left out (its weight not in `total`); `r` in [0, 1). */
function drawByWeight(ts: Target[], total: number, skip: number, r: number): number {
  let x = r * total;
  let last = -1;
  for (let i = 0; i < ts.length; i++) {
    if (i === skip) continue;
    last = i;
    x -= ts[i]!.weight;
    if (x < 0) return i;
  }
  return last;
}

/**
 * Weighted rendezvous hashing: the healthy targets by their score for the key, highest first. The
 * outcome is a hit when the first is the key's best among every weighted target of the priority,
 * healthy or not; moved when that one was out (health wins over affinity).
 */
function byRendezvous(route: Route, from: number, to: number, weighted: Target[], pick: PickInput, plan: Target[]): void {
  const key = pick.affinityHash!;
  const scored = weighted.map((t) => ({ t, s: rendezvousScore(key, t.hash, t.weight) })).sort((a, b) => b.s - a.s);
  for (const x of scored) plan.push(x.t);
  if (pick.affinity === undefined) {
    let best: Target | undefined;
    let bestScore = -Infinity;
    for (let k = from; k < to; k++) {
      const t = route.targets[k]!;
      if (t.weight === 0) continue;
      const s = rendezvousScore(key, t.hash, t.weight);
      if (s > bestScore) {
        best = t;
        bestScore = s;
      }
    }
    pick.affinity = best === scored[0]!.t ? 'hit' : 'moved';
  }
}
