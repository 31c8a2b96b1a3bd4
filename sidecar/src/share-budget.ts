/**
 * A share of a route's requests that extra upstream tries may add, counted
 * over a sliding window: the retry budget (retries and fallbacks, README
 * "Retry budget") and the hedge budget (README "Hedged requests") are both
 * one of these. Finagle's RetryBudget has the same shape: every request
 * deposits `ratio` of a try, every extra try withdraws one, deposits expire
 * after the window, and a reserve of `reservePerSecond` tries per second of
 * the window is there whatever the traffic (so a quiet route still retries).
 * One class for both because the rule is the same; what differs (which
 * tries spend, what happens when it is spent) is the failover loop's.
 *
 * Pure: the time is passed to every call (ms, any monotonic-enough clock:
 * Date.now in the sidecar, a number in tests). The window is cut into
 * SLOTS slots; a slot's counts leave the window whole when it ages out, so
 * the window is between (SLOTS-1)/SLOTS and 1 of `windowMs` long. It holds
 * two small typed arrays and allocates nothing per call.
 */

export interface ShareBudgetPolicy {
  /** Extra tries per request: 0.2 lets retries add 20 % of the requests. */
  ratio: number;
  /** Extra tries per second of the window allowed whatever the traffic. */
  reservePerSecond: number;
  windowMs: number;
}

export const SLOTS = 10;

export class ShareBudget {
  private readonly requests = new Float64Array(SLOTS);
  private readonly spends = new Float64Array(SLOTS);
  private requestTotal = 0;
  private spendTotal = 0;
  /** The newest slot's number: floor(now / slotMs). */
  private epoch = Number.NEGATIVE_INFINITY;
  private policy: ShareBudgetPolicy;
  private slotMs: number;

  constructor(policy: ShareBudgetPolicy) {
    this.policy = policy;
    this.slotMs = Math.max(1, policy.windowMs / SLOTS);
  }

  /** Takes a new policy; a new window length starts the count afresh (the slots mean another span). */
  setPolicy(policy: ShareBudgetPolicy): void {
    if (policy.windowMs !== this.policy.windowMs) {
      this.requests.fill(0);
      this.spends.fill(0);
      this.requestTotal = 0;
      this.spendTotal = 0;
      this.epoch = Number.NEGATIVE_INFINITY;
      this.slotMs = Math.max(1, policy.windowMs / SLOTS);
    }
    this.policy = policy;
  }

  /** Counts one request of the route (its first try is free). */
  request(now: number): void {
    const i = this.advance(now);
    this.requests[i]!++;
    this.requestTotal++;
  }

  /** Whether one more extra try fits in the budget now. */
  allows(now: number): boolean {
    this.advance(now);
    return this.spendTotal < this.limit();
  }

  /** Counts one extra try, whether or not it fitted (a fallback past the budget still happens and still counts). */
  spend(now: number): void {
    const i = this.advance(now);
    this.spends[i]!++;
    this.spendTotal++;
  }

  /** allows() and, when it does, spend(). */
  trySpend(now: number): boolean {
    if (!this.allows(now)) return false;
    this.spend(now);
    return true;
  }

  /** What the window holds now (for tests and the bench). */
  snapshot(now: number): { requests: number; spends: number; limit: number } {
    this.advance(now);
    return { requests: this.requestTotal, spends: this.spendTotal, limit: this.limit() };
  }

  private limit(): number {
    const p = this.policy;
    return p.reservePerSecond * (p.windowMs / 1000) + p.ratio * this.requestTotal;
  }

  /** Moves the window to `now`, emptying the slots that aged out; returns the current slot's index. */
  private advance(now: number): number {
    const e = Math.floor(now / this.slotMs);
    if (e > this.epoch) {
      if (e - this.epoch >= SLOTS) {
        this.requests.fill(0);
        this.spends.fill(0);
        this.requestTotal = 0;
        this.spendTotal = 0;
      } else {
        for (let n = this.epoch + 1; n <= e; n++) {
          const i = slot(n);
          this.requestTotal -= this.requests[i]!;
          this.spendTotal -= this.spends[i]!;
          this.requests[i] = 0;
          this.spends[i] = 0;
        }
      }
      this.epoch = e;
    }
    // A clock that stepped back counts in the newest slot: the window never runs backwards.
    return slot(this.epoch);
  }
}

function slot(n: number): number {
  return ((n % SLOTS) + SLOTS) % SLOTS;
}
