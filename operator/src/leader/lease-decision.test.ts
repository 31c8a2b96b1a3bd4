import { decideLease, leaseChangeVerdict, leaseMetadata, microTime, nextRoundDelay, releasedLease } from './lease-decision.ts';

const NOW = Date.parse('2025-06-01T12:00:00.123Z');

describe('decideLease', () => {
  const base = { now: NOW, observedAt: NOW, identity: 'me', leaseDurationSeconds: 15 };

  it('creates a missing Lease', () => {
    expect(decideLease({ ...base, current: undefined })).toEqual({
      action: 'create',
      spec: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: '2025-06-01T12:00:00.123000Z', renewTime: '2025-06-01T12:00:00.123000Z', leaseTransitions: 0 },
    });
  });

  it('renews its own Lease, keeping acquireTime and transitions', () => {
    const d = decideLease({ ...base, current: { holderIdentity: 'me', acquireTime: 'A', renewTime: 'R', leaseTransitions: 3, leaseDurationSeconds: 15 } });
    expect(d).toEqual({ action: 'update', acquired: false, spec: { holderIdentity: 'me', acquireTime: 'A', renewTime: microTime(NOW), leaseTransitions: 3, leaseDurationSeconds: 15 } });
  });

  it("waits while another holder's Lease is fresh, judged by when this replica saw it change", () => {
    const current = { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: '2000-01-01T00:00:00.000000Z', leaseTransitions: 1 };
    // renewTime is ancient by our clock, but we only just saw the record change: not expired.
    expect(decideLease({ ...base, current, observedAt: NOW - 14_999 })).toEqual({ action: 'wait', holder: 'other' });
    const taken = decideLease({ ...base, current, observedAt: NOW - 15_000 });
    expect(taken).toMatchObject({ action: 'update', acquired: true, spec: { holderIdentity: 'me', leaseTransitions: 2 } });
  });

  it('takes a released Lease at once', () => {
    const released = releasedLease({ holderIdentity: 'other', leaseTransitions: 4 }, NOW);
    expect(released).toMatchObject({ holderIdentity: null, leaseDurationSeconds: 1, leaseTransitions: 4 });
    expect(decideLease({ ...base, current: released })).toMatchObject({ action: 'update', acquired: true, spec: { holderIdentity: 'me', leaseTransitions: 5 } });
  });

  it('writes MicroTime with six fractional digits', () => {
    expect(microTime(Date.parse('2025-01-02T03:04:05.006Z'))).toBe('2025-01-02T03:04:05.006000Z');
  });
});

describe('leaseChangeVerdict', () => {
  it('acts on a released or deleted Lease, and a leader on someone else holding it; notes renewals', () => {
    expect(leaseChangeVerdict({ spec: { holderIdentity: null }, identity: 'me', leader: false })).toBe('act');
    expect(leaseChangeVerdict({ spec: { holderIdentity: '' }, identity: 'me', leader: false })).toBe('act');
    expect(leaseChangeVerdict({ spec: undefined, identity: 'me', leader: true })).toBe('act');
    expect(leaseChangeVerdict({ spec: { holderIdentity: 'other' }, identity: 'me', leader: true })).toBe('act');
    expect(leaseChangeVerdict({ spec: { holderIdentity: 'other' }, identity: 'me', leader: false })).toBe('note');
    expect(leaseChangeVerdict({ spec: { holderIdentity: 'me' }, identity: 'me', leader: true })).toBe('note');
  });
});

describe('nextRoundDelay', () => {
  const base = { now: NOW, observedAt: NOW, identity: 'me', leaseDurationSeconds: 15, retryPeriodMs: 2000 };

  it('is the retry period for a leader, and for a standby while the Lease is fresh for longer', () => {
    expect(nextRoundDelay({ ...base, leader: true, current: { holderIdentity: 'me' } })).toBe(2000);
    expect(nextRoundDelay({ ...base, leader: false, current: { holderIdentity: 'other', leaseDurationSeconds: 15 } })).toBe(2000);
    expect(nextRoundDelay({ ...base, leader: false, current: undefined })).toBe(2000);
  });

  it("ends a standby's wait when the holder's Lease runs out, judged from when it was last seen to change", () => {
    const current = { holderIdentity: 'other', leaseDurationSeconds: 15 };
    expect(nextRoundDelay({ ...base, leader: false, current, observedAt: NOW - 14_200 })).toBe(800);
    expect(nextRoundDelay({ ...base, leader: false, current, observedAt: NOW - 20_000 })).toBe(0);
    expect(nextRoundDelay({ ...base, leader: false, current: { holderIdentity: 'other' }, observedAt: NOW - 14_500 })).toBe(500);
  });
});

describe('leaseMetadata (issue 15, point 9: no Lease left after helm uninstall)', () => {
  const meta = { name: 'llmroute-operator', namespace: 'llmroute-system', resourceVersion: '7' };

  it('makes the holder pod the Lease\'s only owner, replacing a previous holder\'s', () => {
    const owned = leaseMetadata(meta, { name: 'op-b', uid: 'uid-b' });
    expect(owned).toEqual({ ...meta, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'op-b', uid: 'uid-b' }] });
    const previous = { ...meta, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'op-a', uid: 'uid-a' }] };
    expect(leaseMetadata(previous, { name: 'op-b', uid: 'uid-b' }).ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'op-b', uid: 'uid-b' }]);
    // no blockOwnerDeletion: that would need rights on the pod's finalizers
    expect(owned.ownerReferences![0]).not.toHaveProperty('blockOwnerDeletion');
  });

  it('leaves the metadata alone without an owner pod (outside a pod, or no $POD_UID)', () => {
    expect(leaseMetadata(meta, undefined)).toBe(meta);
  });
});
