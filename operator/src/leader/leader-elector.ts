/**
 * Runs leader election on the Lease `name` in `namespace`: tries to acquire
 * it every retryPeriod; once leader, renews it every retryPeriod and steps
 * down when it could not renew for renewDeadline (or someone else holds
 * it). stop() releases the Lease so another replica takes over at once.
 */
import { realClock, sleep, type Clock } from '../../../common/clock.ts';
import type { Logger } from '../../../common/log.ts';
import { KubeApiError } from '../errors.ts';
import type { KubeClient } from '../kube/kube-client.ts';
import { leasePath, leasesPath } from '../kube/paths.ts';
import { decideLease, releasedLease, type LeaseSpec } from './lease-decision.ts';

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
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading'>> & Pick<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading'>;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  #leader = false;
  #lastRenew = 0;
  #lease: Lease | undefined;
  #observed: { record: string; at: number } = { record: '', at: 0 };

  constructor(o: LeaderElectorOptions) {
    this.#o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...o, clock: o.clock ?? realClock };
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Who holds the Lease as last read (may be this replica). */
  get holder(): string | undefined {
    return this.#lease?.spec?.holderIdentity ?? undefined;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Stops trying; a leader steps down and releases the Lease. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
    if (this.#leader) {
      this.#setLeader(false);
      await this.#release();
    }
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let renewed = false;
      try {
        renewed = await this.#tryAcquireOrRenew();
      } catch (err) {
        this.#o.log.warn('leader election: cannot read or write the Lease', { lease: `${this.#o.namespace}/${this.#o.name}`, error: (err as Error).message });
      }
      if (signal.aborted) break;
      if (renewed) {
        this.#lastRenew = this.#o.clock.now();
        if (!this.#leader) this.#setLeader(true);
      } else if (this.#leader && (this.#o.clock.now() - this.#lastRenew > this.#o.renewDeadlineMs || this.#heldByOther())) {
        this.#setLeader(false);
      }
      if (!(await sleep(this.#o.clock, this.#o.retryPeriodMs, signal))) break;
    }
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
    const now = this.#o.clock.now();
    const record = JSON.stringify([current?.spec?.holderIdentity, current?.spec?.renewTime, current?.metadata.resourceVersion]);
    if (record !== this.#observed.record) this.#observed = { record, at: now };

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
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: decision.spec },
          signal: this.#abort.signal,
        });
      } else {
        this.#lease = await client.request<Lease>('PUT', leasePath(namespace, name), {
          body: { ...current!, spec: decision.spec },
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
