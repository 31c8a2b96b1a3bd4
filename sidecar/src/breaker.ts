/**
 * A per-target circuit breaker with a real half-open state.
 *
 *   closed --(consecutiveFailures in a row)--> open
 *   open   --(openFor elapsed; one request)--> half-open (that request is the probe)
 *   half-open --probe succeeds--> closed;  --probe fails--> open again
 *
 * While half-open, only the probe may pass: every other request skips the
 * target. A probe that never reports back (its request was abandoned) frees
 * the slot after openFor, so the breaker cannot wedge. The clock is passed
 * in, so tests drive time by hand. `stateAfter` is the same rule read
 * ahead, without changing anything (the failover policy's look-ahead).
 */
export type CircuitState = 'closed' | 'half-open' | 'open';

export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface BreakerPolicyLike {
  consecutiveFailures: number;
  openForMs: number;
}

/** What a breaker is told of an outcome. */
export type BreakerEvent = 'success' | 'failure' | 'trip';

/** A breaker as its readers see it. */
export interface BreakerView {
  readonly state: CircuitState;
  readonly failures: number;
  readonly policy: Readonly<BreakerPolicyLike>;
  waitMs(now: number): number;
}

/** Whether one more failure opens the breaker. */
function failureTrips(b: BreakerView): boolean {
  return b.state === 'half-open' || b.failures + 1 >= b.policy.consecutiveFailures;
}

/** The state a breaker would be in after `event` (none: as it is). */
export function stateAfter(b: BreakerView, event: BreakerEvent | undefined): CircuitState {
  if (event === 'success') return 'closed';
  if (event === 'trip' || (event === 'failure' && failureTrips(b))) return 'open';
  return b.state;
}

export class CircuitBreaker implements BreakerView {
  state: CircuitState = 'closed';
  failures = 0;
  /** When open: the time the next probe may go. When half-open: when an unanswered probe expires. */
  until = 0;
  policy: BreakerPolicyLike;
  onChange?: ((state: CircuitState) => void) | undefined;

  constructor(policy: BreakerPolicyLike) {
    this.policy = policy;
  }

  /** Whether a request may use the target now, without taking the probe slot. */
  canPass(now: number): boolean {
    if (this.state === 'closed') return true;
    return now >= this.until;
  }

  /**
   * Takes permission for one request. In the open state after openFor, the
   * caller becomes the half-open probe. Returns false when it must skip.
   */
  acquire(now: number): boolean {
    if (this.state === 'closed') return true;
    if (now < this.until) return false;
    // open and due, or half-open with an abandoned probe: this request probes.
    this.until = now + this.policy.openForMs;
    this.set('half-open');
    return true;
  }

  /**
   * Gives back a probe slot that was taken and not used (the request could not be sent to this
   * target at all): the next request may probe at once.
   */
  release(now: number): void {
    if (this.state === 'half-open') this.until = Math.min(this.until, now);
  }

  /** Milliseconds until a request may pass (0 when it may now). */
  waitMs(now: number): number {
    return this.state === 'closed' ? 0 : Math.max(0, this.until - now);
  }

  success(): void {
    this.failures = 0;
    if (this.state !== 'closed') this.set('closed');
  }

  failure(now: number): void {
    const trips = failureTrips(this);
    this.failures++;
    if (trips) this.trip(now);
  }

  /** Opens at once (an auth failure, or a failed probe). */
  trip(now: number): void {
    this.until = now + this.policy.openForMs;
    this.set('open');
  }

  private set(state: CircuitState): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange?.(state);
  }
}
