/**
 * Leader election on a coordination.k8s.io/v1 Lease, the decision part:
 * given the Lease as read (or none), when this replica last saw it change
 * and the time now, what to write. Like client-go, expiry is judged by the
 * local clock from the moment the record was last seen to change, never by
 * comparing another host's renewTime with ours (clocks drift). Pure.
 */
export interface LeaseSpec {
  holderIdentity?: string | null | undefined;
  leaseDurationSeconds?: number | undefined;
  acquireTime?: string | null | undefined;
  renewTime?: string | null | undefined;
  leaseTransitions?: number | undefined;
}

export type LeaseDecision =
  | { action: 'create'; spec: LeaseSpec }
  | { action: 'update'; spec: LeaseSpec; acquired: boolean }
  | { action: 'wait'; holder: string };

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function decideLease(o: {
  current: LeaseSpec | undefined;
  /** Local time (ms) at which this replica saw the current record change. */
  observedAt: number;
  now: number;
  identity: string;
  leaseDurationSeconds: number;
}): LeaseDecision {
  const now = microTime(o.now);
  if (!o.current) {
    return {
      action: 'create',
      spec: { holderIdentity: o.identity, leaseDurationSeconds: o.leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
    };
  }
  const holder = o.current.holderIdentity ?? '';
  if (holder === o.identity) {
    return { action: 'update', acquired: false, spec: { ...o.current, leaseDurationSeconds: o.leaseDurationSeconds, renewTime: now } };
  }
  const duration = (o.current.leaseDurationSeconds ?? o.leaseDurationSeconds) * 1000;
  if (holder && o.observedAt + duration > o.now) return { action: 'wait', holder };
  return {
    action: 'update',
    acquired: true,
    spec: {
      holderIdentity: o.identity,
      leaseDurationSeconds: o.leaseDurationSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: (o.current.leaseTransitions ?? 0) + 1,
    },
  };
}

/** The Lease after a graceful step-down: no holder, so another replica takes it at once. */
export function releasedLease(current: LeaseSpec, nowMs: number): LeaseSpec {
  const now = microTime(nowMs);
  return { leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.leaseTransitions ?? 0, holderIdentity: null };
}
