/**
 * Leader election on a coordination.k8s.io/v1 Lease, the decision part:
 * given the Lease as read (or none), when this replica last saw it change
 * and the time now, what to write. Like client-go, expiry is judged by the
 * local clock from the moment the record was last seen to change, never by
 * comparing another host's renewTime with ours (clocks drift). Pure.
 */
/** A Pod that owns the Lease while it holds it. */
export interface OwnerPod {
  name: string;
  uid: string;
}

export interface LeaseMetadata {
  name: string;
  namespace: string;
  resourceVersion?: string;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

/**
 * The Lease's metadata as the holder writes it: with an owner pod, that pod
 * is its only ownerReference (a previous holder's goes), so the garbage
 * collector deletes the Lease once the pod that last held it is gone. No
 * blockOwnerDeletion (it would need rights on the pod's finalizers) and no
 * controller flag. Without an owner pod the metadata is left as it is.
 */
export function leaseMetadata(metadata: LeaseMetadata, owner: OwnerPod | undefined): LeaseMetadata {
  if (!owner) return metadata;
  return { ...metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: owner.name, uid: owner.uid }] };
}

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

/**
 * What a replica does on seeing the Lease change through its watch (spec
 * undefined: the Lease is gone): 'act' runs a round at once (it was
 * released or deleted, so a standby may take it; or someone else holds it,
 * so a leader steps down now), 'note' only records that the record changed
 * (the holder renewed: its expiry moves).
 */
export function leaseChangeVerdict(o: { spec: LeaseSpec | undefined; identity: string; leader: boolean }): 'act' | 'note' {
  const holder = o.spec?.holderIdentity ?? '';
  if (!o.spec || !holder) return 'act';
  if (o.leader && holder !== o.identity) return 'act';
  return 'note';
}

/**
 * How long to wait before the next round: a leader renews every
 * retryPeriod; a standby waits at most until the holder's Lease would
 * expire (judged, as in decideLease, from when it last saw the record
 * change), so it takes over the moment the Lease runs out, not up to a
 * retryPeriod later. A released Lease wakes the standby sooner (its watch).
 */
export function nextRoundDelay(o: {
  leader: boolean;
  current: LeaseSpec | undefined;
  observedAt: number;
  now: number;
  identity: string;
  leaseDurationSeconds: number;
  retryPeriodMs: number;
}): number {
  const holder = o.current?.holderIdentity ?? '';
  if (o.leader || !holder || holder === o.identity) return o.retryPeriodMs;
  const expiresAt = o.observedAt + (o.current?.leaseDurationSeconds ?? o.leaseDurationSeconds) * 1000;
  return Math.max(0, Math.min(o.retryPeriodMs, expiresAt - o.now));
}
