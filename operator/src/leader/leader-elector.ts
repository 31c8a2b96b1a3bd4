/**
 * Runs leader election on the Lease `name` in `namespace`: tries to acquire
 * it every retryPeriod; once leader, renews it every retryPeriod and steps
 * down when it could not renew for renewDeadline (or someone else holds
 * it). stop() releases the Lease so another replica takes over at once.
 *
 * Every replica also watches the one Lease (fieldSelector metadata.name):
 * a standby runs its round the moment the Lease is released or deleted,
 * and otherwise at the latest when the holder's Lease runs out, not up to
 * a retryPeriod later; a leader that sees someone else hold it steps down
 * at once. The polling stays, as the fallback when the watch is down.
 *
 * With ownerPod (this replica's Pod, from the downward API), the leader
 * writes it as the Lease's ownerReference whenever it creates, acquires or
 * renews the Lease: when the last pod that held the Lease is gone, the
 * garbage collector deletes the Lease. On `helm uninstall` the release
 * goes in one pass: the RoleBinding and the ServiceAccount are deleted
 * while the operator pods are still stopping, so the release on SIGTERM
 * cannot be relied on there (it gets a 401/403), and without an owner the
 * Lease would stay, naming a deleted pod.
 */
import { realClock, sleep, type Clock } from '../../../common/clock.ts';
import type { Logger } from '../../../common/log.ts';
import { KubeApiError } from '../errors.ts';
import type { KubeClient } from '../kube/kube-client.ts';
import { kubeListWatch } from '../kube/kube-list-watch.ts';
import { leasePath, leasesPath } from '../kube/paths.ts';
import { Reflector } from '../kube/reflector.ts';
import { decideLease, leaseChangeVerdict, leaseMetadata, nextRoundDelay, releasedLease, type LeaseMetadata, type LeaseSpec, type OwnerPod } from './lease-decision.ts';

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /** Times the rounds and judges the Lease's expiry; default realClock. */
  clock?: Clock;
  /** The Lease watch's server-side timeout (it is reopened after); default 300 s. */
  watchTimeoutSeconds?: number;
  /** This replica's Pod: the Lease's owner while this replica holds it (see above). */
  ownerPod?: OwnerPod;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: LeaseMetadata;
  spec?: LeaseSpec;
}

export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'watchTimeoutSeconds' | 'ownerPod'>> &
    Pick<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'ownerPod'>;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  #leader = false;
  #lastRenew = 0;
  #lease: Lease | undefined;
  #observed: { record: string; at: number } = { record: '', at: 0 };
  readonly #watch: Reflector<Lease>;
  /** Ends the current wait between rounds (the watch saw something to act on). */
  #wake: (() => void) | undefined;
  /** Something to act on arrived mid-round: the next wait ends at once. */
  #wakePending = false;

  constructor(o: LeaderElectorOptions) {
    this.#o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...o, clock: o.clock ?? realClock };
    const source = kubeListWatch<Lease>(o.client, leasesPath(o.namespace), {
      fieldSelector: `metadata.name=${o.name}`,
      ...(o.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: o.watchTimeoutSeconds } : {}),
    });
    const seen = (lease: Lease | undefined) => this.#leaseSeen(lease);
    this.#watch = new Reflector<Lease>(
      source,
      { replace: (items) => seen(items.find((l) => l.metadata.name === o.name)), upsert: seen, remove: () => seen(undefined) },
      { name: `lease/${o.namespace}/${o.name}`, log: o.log, clock: this.#o.clock },
    );
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Who holds the Lease as last read (may be this replica). */
  get holder(): string | undefined {
    return this.#lease?.spec?.holderIdentity ?? undefined;
  }

  start(): void {
    if (this.#running) return;
    this.#watch.start();
    this.#running = this.#run();
  }

  /** Stops trying; a leader steps down and releases the Lease. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all([this.#running, this.#watch.stop()]);
    if (this.#leader) {
      this.#setLeader(false);
      await this.#release();
    }
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let renewed = false;
      let failed = false;
      try {
        renewed = await this.#tryAcquireOrRenew();
      } catch (err) {
        failed = true;
        this.#o.log.warn('leader election: cannot read or write the Lease', { lease: `${this.#o.namespace}/${this.#o.name}`, error: (err as Error).message });
      }
      if (signal.aborted) break;
      if (renewed) {
        this.#lastRenew = this.#o.clock.now();
        if (!this.#leader) this.#setLeader(true);
      } else if (this.#leader && (this.#o.clock.now() - this.#lastRenew > this.#o.renewDeadlineMs || this.#heldByOther())) {
        this.#setLeader(false);
      }
      // A failed round waits a whole retry period: a Lease that ran out while the API server is away is no reason to spin.
      const delay = failed ? this.#o.retryPeriodMs : this.#nextRoundDelay();
      if (!(await this.#pause(delay, signal))) break;
    }
  }

  #nextRoundDelay(): number {
    return nextRoundDelay({
      leader: this.#leader,
      current: this.#lease?.spec,
      observedAt: this.#observed.at,
      now: this.#o.clock.now(),
      identity: this.#o.identity,
      leaseDurationSeconds: Math.round(this.#o.leaseDurationMs / 1000),
      retryPeriodMs: this.#o.retryPeriodMs,
    });
  }

  /** Waits ms, or less when the watch wakes it; false once stopped. */
  async #pause(ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.#wakePending) {
      this.#wakePending = false;
      return !signal.aborted;
    }
    const woken = new AbortController();
    const wake = () => woken.abort();
    this.#wake = wake;
    signal.addEventListener('abort', wake, { once: true });
    try {
      await sleep(this.#o.clock, ms, woken.signal);
    } finally {
      signal.removeEventListener('abort', wake);
      this.#wake = undefined;
      this.#wakePending = false;
    }
    return !signal.aborted;
  }

  /** The Lease as the watch delivers it (undefined: deleted). */
  #leaseSeen(lease: Lease | undefined): void {
    this.#note(lease);
    if (leaseChangeVerdict({ spec: lease?.spec, identity: this.#o.identity, leader: this.#leader }) === 'note') return;
    if (this.#wake) this.#wake();
    else this.#wakePending = true;
  }

  /** Remembers when the Lease record last changed, as seen here (expiry is judged from that moment). */
  #note(lease: Lease | undefined): void {
    const record = JSON.stringify([lease?.spec?.holderIdentity, lease?.spec?.renewTime, lease?.metadata.resourceVersion]);
    if (record !== this.#observed.record) this.#observed = { record, at: this.#o.clock.now() };
  }

  #heldByOther(): boolean {
    const h = this.#lease?.spec?.holderIdentity;
    return !!h && h !== this.#o.identity;
  }

  #setLeader(leader: boolean): void {
    this.#leader = leader;
    this.#o.log.info(leader ? 'became the leader' : 'stopped leading', { identity: this.#o.identity, lease: `${this.#o.namespace}/${this.#o.name}` });
    if (leader) this.#o.onStartedLeading();
    else this.#o.onStoppedLeading();
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.#o;
    let current: Lease | undefined;
    try {
      current = await client.request<Lease>('GET', leasePath(namespace, name), { signal: this.#abort.signal });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.notFound)) throw err;
    }
    this.#lease = current;
    this.#note(current);
    const now = this.#o.clock.now();

    const decision = decideLease({
      current: current?.spec ?? (current ? {} : undefined),
      observedAt: this.#observed.at,
      now,
      identity,
      leaseDurationSeconds: Math.round(this.#o.leaseDurationMs / 1000),
    });
    if (decision.action === 'wait') return false;
    try {
      if (decision.action === 'create') {
        this.#lease = await client.request<Lease>('POST', leasesPath(namespace), {
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: leaseMetadata({ name, namespace }, this.#o.ownerPod), spec: decision.spec },
          signal: this.#abort.signal,
        });
      } else {
        this.#lease = await client.request<Lease>('PUT', leasePath(namespace, name), {
          body: { ...current!, metadata: leaseMetadata(current!.metadata, this.#o.ownerPod), spec: decision.spec },
          signal: this.#abort.signal,
        });
        if (decision.acquired) this.#o.log.info('acquired the Lease', { identity, previousHolder: current?.spec?.holderIdentity ?? null });
      }
    } catch (err) {
      // 409: someone else wrote it first; AlreadyExists on create likewise. Try again next round.
      if (err instanceof KubeApiError && err.conflict) return false;
      throw err;
    }
    return true;
  }

  async #release(): Promise<void> {
    const lease = this.#lease;
    if (!lease?.spec || lease.spec.holderIdentity !== this.#o.identity) return;
    try {
      await this.#o.client.request('PUT', leasePath(this.#o.namespace, this.#o.name), {
        body: { ...lease, spec: releasedLease(lease.spec, this.#o.clock.now()) },
        timeoutMs: 5_000,
      });
      this.#o.log.info('released the Lease', { identity: this.#o.identity });
    } catch (err) {
      this.#o.log.warn('could not release the Lease; it expires on its own', { error: (err as Error).message });
    }
  }
}
