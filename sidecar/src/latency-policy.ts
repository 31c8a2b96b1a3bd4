/**
 * Latency-aware balancing (`balancing: least-latency`), the pure part: each
 * target's time-decayed average latency (an EWMA whose weight decays with
 * the time between samples, so it means "the last few half-lives", however
 * busy the target is), its cost for the balancer's power of two choices,
 * and the outlier verdict (Envoy's outlier detection, on latency): a target
 * whose average is far above the median of its peers' is ejected for a
 * while, behind its peers.
 *
 * Streams and whole answers are averaged apart: a stream's time to its
 * first content does not grow with the answer's length, a whole answer's
 * time does, so the two do not compare; a request is balanced on the
 * average of its own kind. An average older than STALE_HALF_LIVES
 * half-lives counts as unknown, so a target the balancer stopped choosing
 * gets tried again and measured anew.
 */
import type { LatencyPolicy, Route, Target } from './config/runtime-config.ts';
import type { Ewma, HealthReader, LatencyStats } from './target-health.ts';

export type LatencyKind = 'stream' | 'whole';

/** An average with no sample for this many half-lives is unknown again. */
export const STALE_HALF_LIVES = 5;

/** The average after one more sample (in place). The first sample is taken as it is. */
export function addSample(e: Ewma, sampleMs: number, now: number, tauMs: number): void {
  if (e.samples === 0) {
    e.ms = sampleMs;
  } else {
    const w = Math.exp(-Math.max(0, now - e.at) / tauMs);
    // A sample at the same instant as the last still counts a little.
    const keep = Math.min(w, 0.999);
    e.ms = e.ms * keep + sampleMs * (1 - keep);
  }
  e.at = Math.max(e.at, now);
  e.samples++;
}

/** The average in ms, or undefined when there is none or it is stale. */
export function averageMs(stats: LatencyStats | undefined, kind: LatencyKind, now: number, p: LatencyPolicy): number | undefined {
  if (!stats) return undefined;
  const e = stats[kind];
  if (e.samples === 0 || now - e.at > STALE_HALF_LIVES * p.tauMs * Math.LN2) return undefined;
  return e.ms;
}

/**
 * The balancer's cost of each target: its average (an unknown one takes just under the lowest
 * known among them, so it wins a tie and gets tried; 1 ms when none is known) times its tries in flight plus one, so
 * concurrent requests do not all pile onto the one that was fastest a moment ago.
 */
export function costs(targets: readonly Target[], health: HealthReader, kind: LatencyKind, now: number, p: LatencyPolicy): number[] {
  const avg: Array<number | undefined> = [];
  let min = Infinity;
  for (const t of targets) {
    const a = averageMs(health.get(t).latency, kind, now, p);
    avg.push(a);
    if (a !== undefined && a < min) min = a;
  }
  const unknown = Number.isFinite(min) ? min * (1 - 1e-9) : 1;
  return targets.map((t, i) => (avg[i] ?? unknown) * (health.get(t).inflight + 1));
}

export interface OutlierVerdict {
  ewmaMs: number;
  medianMs: number;
}

/**
 * Whether `target`, whose average of `kind` just changed, is an outlier to eject now: it and at
 * least one peer (same priority, weight > 0, not ejected) have `minRequests` samples, its average
 * is above `outlierRatio` times the median of those peers', it is not ejected already, and
 * ejecting it keeps the priority's ejected share within `maxEjectedShare` and one target in.
 */
export function outlierVerdict(route: Route, target: Target, health: HealthReader, kind: LatencyKind, now: number): OutlierVerdict | undefined {
  const p = route.latency;
  if (!p || p.outlierRatio <= 0 || target.weight === 0) return undefined;
  const own = health.get(target);
  const mine = averageMs(own.latency, kind, now, p);
  if (mine === undefined || own.latency![kind].samples < p.minRequests || own.ejectedUntil > now) return undefined;
  const peers: number[] = [];
  let group = 0;
  let ejected = 0;
  for (const t of route.targets) {
    if (t.priority !== target.priority || t.weight === 0) continue;
    group++;
    if (t === target) continue;
    const h = health.get(t);
    if (h.ejectedUntil > now) {
      ejected++;
      continue;
    }
    const a = averageMs(h.latency, kind, now, p);
    if (a !== undefined && h.latency![kind].samples >= p.minRequests) peers.push(a);
  }
  if (peers.length === 0) return undefined;
  peers.sort((a, b) => a - b);
  const mid = peers.length >> 1;
  const median = peers.length % 2 ? peers[mid]! : (peers[mid - 1]! + peers[mid]!) / 2;
  if (!(mine > p.outlierRatio * median)) return undefined;
  if (ejected + 1 >= group || ejected + 1 > Math.floor(group * p.maxEjectedShare)) return undefined;
  return { ewmaMs: mine, medianMs: median };
}
