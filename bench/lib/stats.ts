/** Latency samples (milliseconds, fractional) and their percentiles. */

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class Samples {
  private a = new Float64Array(4096);
  n = 0;

  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }

  summary(): LatencySummary {
    const s = this.a.slice(0, this.n).sort();
    const n = s.length;
    if (n === 0) return { count: 0, mean: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
    let sum = 0;
    for (let i = 0; i < n; i++) sum += s[i]!;
    // Nearest rank.
    const q = (p: number): number => s[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
    return { count: n, mean: sum / n, p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: s[n - 1]! };
  }
}

/** Median of the finite numbers given (NaN when none): how rounds are combined. */
export function median(xs: Array<number | null | undefined>): number {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}
