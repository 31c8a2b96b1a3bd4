/**
 * The LLMRoute controller: caches of LLMRoutes and Secrets kept by
 * reflectors (cluster-wide, or one pair per namespace given), a
 * per-namespace work queue fed by their changes and a periodic resync, and
 * workers that reconcile namespaces, but only while startWorkers() is in
 * force (that is, while this replica leads). Where it reads from and writes
 * to is handed in (operator.ts connects both to the API server).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CREDENTIALS_LABEL, CREDENTIALS_LABEL_VALUE } from '../../../api/v1alpha1/enums.ts';
import type { LLMRoute } from '../../../api/v1alpha1/types.ts';
import { realClock, type Clock } from '../../../common/clock.ts';
import type { Logger } from '../../../common/log.ts';
import { KubeApiError } from '../errors.ts';
import type { ListWatchFactory } from '../kube/kube-list-watch.ts';
import { ObjectStore } from '../kube/object-store.ts';
import { configMapsPath, llmRoutesPath, secretsPath } from '../kube/paths.ts';
import { Reflector } from '../kube/reflector.ts';
import { WorkQueue } from '../kube/work-queue.ts';
import type { KeyDestinations } from '../render/key-destinations.ts';
import type { SecretData } from '../render/types.ts';
import type { OperatorMetrics } from '../server/metrics.ts';
import { secretChangeVerdict, slimRoute, slimSecret, type CachedSecret } from './change-filter.ts';
import type { ClusterWriter } from './cluster-writer.ts';
import { slimRenderedConfigMap, slimRenderedSecret, type LiveRendered } from './live-state.ts';
import { CONFIGMAP_NAME, CREDENTIALS_SECRET_NAME, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from './manifests.ts';
import { NamespaceReconciler } from './reconciler.ts';

/** The Secrets apiKeySecretRefs may name. */
export const SOURCE_SECRETS = {
  labelSelector: `${CREDENTIALS_LABEL}=${CREDENTIALS_LABEL_VALUE}`,
  fieldSelector: `metadata.name!=${CREDENTIALS_SECRET_NAME}`,
};
/** The operator's own rendered Secret. */
export const RENDERED_SECRET = {
  labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
  fieldSelector: `metadata.name=${CREDENTIALS_SECRET_NAME}`,
};
/** The operator's rendered ConfigMap: compared before a resync writes it, repaired when edited. */
export const RENDERED_CONFIGMAP = {
  labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
  fieldSelector: `metadata.name=${CONFIGMAP_NAME}`,
};
/** On a takeover, changes seen this recently keep their place ahead of the resync. */
const RECENT_CHANGE_MS = 30_000;

export interface ControllerOptions {
  /** Opens the reflectors' list+watch sources on collection paths. */
  listWatch: ListWatchFactory;
  /** The reconciler's writes. */
  writer: ClusterWriter;
  /** Namespaces to watch; empty: all. */
  namespaces: readonly string[];
  log: Logger;
  metrics: OperatorMetrics;
  /** This replica's name (events' reportingInstance). */
  identity: string;
  /** Every this often every namespace is rendered again and what differs from the cluster written. */
  resyncMs: number;
  /** Namespaces reconciled at once; default 2. */
  workers?: number;
  /** The reflectors' and the queue's; default realClock. */
  clock?: Clock;
  /** Where keys may go; default the public endpoints. */
  keyDestinations?: KeyDestinations | undefined;
}

export class LLMRouteController {
  readonly routes: ObjectStore<LLMRoute>;
  /** The Secrets routes may name: those labelled llmroute.dev/credentials=true (the API server filters). */
  readonly secrets: ObjectStore<CachedSecret>;
  /** The rendered llmroute-credentials Secrets, watched by name to repair tampering; never a source. */
  readonly rendered: ObjectStore<LiveRendered>;
  /** The rendered llmroute-config ConfigMaps (their data as a hash), watched by name: compared before writing, repaired when edited. */
  readonly renderedConfigMaps: ObjectStore<LiveRendered>;
  readonly queue: WorkQueue;
  readonly reconciler: NamespaceReconciler;
  readonly #o: ControllerOptions;
  readonly #reflectors: Reflector<any>[] = [];
  readonly #renderedCount = new Map<string, { rendered: number; total: number }>();
  /** When each namespace last had a change queued (clock ms), for a takeover (startWorkers). */
  readonly #lastChange = new Map<string, number>();
  #resyncTimer: NodeJS.Timeout | undefined;
  #workers: { abort: AbortController; done: Promise<void> } | undefined;

  constructor(o: ControllerOptions) {
    this.#o = o;
    const { metrics, log } = o;
    this.queue = new WorkQueue({ onDepth: (d) => metrics.queueDepth.set(d), clock: o.clock });
    this.routes = new ObjectStore<LLMRoute>((before, after) => {
      const ns = (after ?? before)!.metadata.namespace;
      if (ns) this.#changed(ns);
    });
    const onSecret = (before: CachedSecret | undefined, after: CachedSecret | undefined) => {
      const ns = (after ?? before)!.metadata.namespace;
      if (!ns) return;
      const verdict = secretChangeVerdict(before, after, {
        routes: this.#liveRoutes(ns),
        isOwnWrite: (data) => this.reconciler.isOwnCredentialsWrite(ns, data),
      });
      if (verdict === 'ignore') return;
      if (verdict === 'repair') {
        log.info('the rendered credentials Secret was changed by someone else; writing it again', { namespace: ns });
        this.reconciler.forgetApplied(ns);
      }
      this.#changed(ns);
    };
    this.secrets = new ObjectStore<CachedSecret>(onSecret);
    this.rendered = new ObjectStore<LiveRendered>(onSecret);
    this.renderedConfigMaps = new ObjectStore<LiveRendered>((before, after) => {
      const ns = (after ?? before)!.metadata.namespace;
      if (!ns || !this.synced || !this.#liveRoutes(ns).length || this.reconciler.isOwnConfigMapWrite(ns, after)) return;
      log.info('the rendered ConfigMap was changed by someone else; writing it again', { namespace: ns });
      this.reconciler.forgetApplied(ns);
      this.#changed(ns);
    });
    this.reconciler = new NamespaceReconciler({
      routes: (ns) => this.#liveRoutes(ns),
      secrets: (ns) => this.#secretsOf(ns),
      live: (ns, kind) => (kind === 'Secret' ? this.rendered.get(ns, CREDENTIALS_SECRET_NAME) : this.renderedConfigMaps.get(ns, CONFIGMAP_NAME)),
      writer: o.writer,
      log,
      instance: o.identity,
      keyDestinations: o.keyDestinations,
    });

    const scopes: Array<string | undefined> = o.namespaces.length ? [...o.namespaces] : [undefined];
    for (const ns of scopes) {
      this.#reflectors.push(
        this.#reflector('llmroutes', ns, llmRoutesPath(ns), this.routes, slimRoute),
        // Only the Secrets their owners opted in: the API server never sends the operator any other.
        // The rendered Secret is left out even if someone labels it: it is never a source.
        this.#reflector('secrets', ns, secretsPath(ns), this.secrets, slimSecret, SOURCE_SECRETS),
        // The rendered Secret, by name and with its managed-by label (someone removing the label reads as a deletion: repaired).
        this.#reflector('rendered-secrets', ns, secretsPath(ns), this.rendered, slimRenderedSecret, RENDERED_SECRET),
        this.#reflector('rendered-configmaps', ns, configMapsPath(ns), this.renderedConfigMaps, slimRenderedConfigMap, RENDERED_CONFIGMAP),
      );
    }
  }

  #reflector<T extends { metadata: { name: string } }>(
    resource: string,
    ns: string | undefined,
    path: string,
    store: ObjectStore<any>,
    transform: (o: any) => T,
    selectors: { labelSelector?: string; fieldSelector?: string } = {},
  ): Reflector<T> {
    const { metrics, log } = this.#o;
    return new Reflector<T>(
      this.#o.listWatch<T>(path, { transform, ...selectors }),
      { replace: (items) => store.replace(ns, items), upsert: (x) => store.upsert(x), remove: (x) => store.remove(x) },
      {
        name: ns ? `${resource}/${ns}` : resource,
        log,
        clock: this.#o.clock,
        onError: (err) => metrics.watchRestarts.inc({ resource, kind: err instanceof KubeApiError && err.expired ? 'expired' : 'error' }),
      },
    );
  }

  #changed(ns: string): void {
    // The caches filling up are no change (a takeover writes every namespace anyway).
    if (this.synced) this.#lastChange.set(ns, (this.#o.clock ?? realClock).now());
    this.queue.add(ns);
  }

  #liveRoutes(ns: string): LLMRoute[] {
    return this.routes.list(ns).filter((r) => !r.metadata.deletionTimestamp);
  }

  #secretsOf(ns: string): Map<string, SecretData> {
    return new Map(this.secrets.list(ns).filter((s) => s.metadata.name !== CREDENTIALS_SECRET_NAME).map((s) => [s.metadata.name, s.data ?? {}]));
  }

  /** Starts the caches (all replicas keep them warm, leaders or not) and the resync timer. */
  start(): void {
    for (const r of this.#reflectors) r.start();
    this.#resyncTimer = setInterval(() => this.resync(), this.#o.resyncMs);
    this.#resyncTimer.unref();
  }

  get synced(): boolean {
    return this.#reflectors.every((r) => r.synced);
  }

  whenSynced(): Promise<void> {
    return Promise.all(this.#reflectors.map((r) => r.whenSynced())).then(() => undefined);
  }

  /**
   * Queues every namespace that has LLMRoutes, to be rendered again and
   * compared with the cluster's objects (the caches): only what differs is
   * written. Behind any namespace a change queued (a new leader's first
   * pass over a thousand namespaces does not hold up a change made meanwhile).
   */
  resync(): void {
    this.reconciler.forgetApplied();
    for (const ns of this.routes.namespaces()) this.queue.add(ns, 'low');
  }

  /** Begins reconciling (after the caches have synced): every namespace with routes first. */
  startWorkers(): void {
    if (this.#workers) return;
    const abort = new AbortController();
    const run = async () => {
      await Promise.race([this.whenSynced(), new Promise((r) => abort.signal.addEventListener('abort', r, { once: true }))]);
      if (abort.signal.aborted) return;
      // A replica that starts leading has every namespace queued since its caches filled: all are
      // written again (resync), but behind the changes of the last moments, which the previous
      // leader may not have written.
      const since = (this.#o.clock ?? realClock).now() - RECENT_CHANGE_MS;
      this.queue.demote((ns) => (this.#lastChange.get(ns) ?? 0) >= since);
      this.resync();
      const n = this.#o.workers ?? 2;
      await Promise.all(Array.from({ length: n }, () => this.#work(abort.signal)));
    };
    this.#workers = { abort, done: run() };
  }

  /** Stops reconciling; resolves once reconciles in flight have finished. */
  async stopWorkers(): Promise<void> {
    const w = this.#workers;
    if (!w) return;
    this.#workers = undefined;
    w.abort.abort();
    await w.done;
  }

  /** Stops everything: workers, reflectors, timer. */
  async stop(): Promise<void> {
    clearInterval(this.#resyncTimer);
    await this.stopWorkers();
    this.queue.shutDown();
    await Promise.all(this.#reflectors.map((r) => r.stop()));
  }

  async #work(signal: AbortSignal): Promise<void> {
    const { metrics, log } = this.#o;
    for (;;) {
      const ns = await this.queue.get(signal);
      if (ns === undefined) return;
      if (signal.aborted) {
        this.queue.done(ns);
        this.queue.add(ns);
        return;
      }
      const end = metrics.reconcileDuration.startTimer();
      try {
        const r = await this.reconciler.reconcile(ns);
        end({ result: 'success' });
        metrics.reconciles.inc({ result: 'success' });
        metrics.events.inc(r.events);
        this.#countRoutes(ns, r.rendered, r.routes);
        this.queue.forget(ns);
      } catch (err) {
        end({ result: 'error' });
        metrics.reconciles.inc({ result: 'error' });
        const delay = this.queue.addRateLimited(ns);
        log.error('reconcile failed, retrying', { namespace: ns, error: (err as Error).message, code: (err as { code?: string }).code, retryInMs: delay });
      } finally {
        this.queue.done(ns);
      }
      // A reconcile with nothing to write never waits on I/O: without a turn of the event loop
      // between them, a first pass over a thousand unchanged namespaces is one burst of seconds
      // that reads no watch event, renews no Lease and leaves V8 no idle time (its young
      // generation grew to its limit: +90 MB RSS at 1,000 namespaces).
      await nextTurn();
    }
  }

  #countRoutes(ns: string, rendered: number, total: number): void {
    if (total) this.#renderedCount.set(ns, { rendered, total });
    else this.#renderedCount.delete(ns);
    let r = 0;
    let t = 0;
    for (const c of this.#renderedCount.values()) {
      r += c.rendered;
      t += c.total;
    }
    this.#o.metrics.routes.set({ rendered: 'true' }, r);
    this.#o.metrics.routes.set({ rendered: 'false' }, t - r);
  }
}
