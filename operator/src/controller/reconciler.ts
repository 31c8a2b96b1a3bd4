/**
 * Reconciles one namespace: renders its LLMRoutes against its Secrets and
 * writes the result. Reads come from the caches (functions handed in),
 * writes go through a ClusterWriter. Throws on a failed write; the caller
 * retries the namespace with backoff.
 *
 * Order of writes, so that a pod never sees a config.yaml naming a key file
 * that is not there: credentials (old ∪ new keys), ConfigMap, credentials
 * (new keys only). Statuses come after the config they describe; events
 * last, best effort.
 *
 * What it last wrote to a namespace is remembered: an unchanged render
 * writes nothing. When that memory is gone (a resync, a new leader's first
 * pass, a repair) the render is compared with the objects as they are in
 * the cluster (the caches, live-state.ts), and only those that differ are
 * written: a resync of a cluster where nothing drifted makes no write.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LLMRoute } from '../../../api/v1alpha1/types.ts';
import type { Logger } from '../../../common/log.ts';
import { KubeApiError } from '../errors.ts';
import type { KeyDestinations } from '../render/key-destinations.ts';
import { renderNamespace } from '../render/render-namespace.ts';
import { routeEvents } from '../render/route-events.ts';
import { statusChanged } from '../render/status-diff.ts';
import type { NamespaceSecrets } from '../render/types.ts';
import type { ClusterWriter } from './cluster-writer.ts';
import { isUpToDate, slimRendered, type LiveRendered } from './live-state.ts';
import {
  CONFIGMAP_NAME,
  CREDENTIALS_SECRET_NAME,
  configMapManifest,
  credentialsBeforeConfig,
  credentialsSecretManifest,
  eventManifest,
  ownerReferences,
  sameData,
} from './manifests.ts';
import { redact } from './redact.ts';

export interface ReconcilerDeps {
  /** The namespace's LLMRoutes (those being deleted left out by the caller or here). */
  routes(namespace: string): LLMRoute[];
  secrets(namespace: string): NamespaceSecrets;
  /** The rendered ConfigMap or credentials Secret as the cache has it, if it exists. */
  live(namespace: string, kind: 'ConfigMap' | 'Secret'): LiveRendered | undefined;
  writer: ClusterWriter;
  log: Logger;
  now?: () => Date;
  /** This replica's name, for the events' reportingInstance. */
  instance: string;
  /** Where keys may go; default the public endpoints (DEFAULT_DESTINATIONS). */
  keyDestinations?: KeyDestinations | undefined;
}

export interface ReconcileResult {
  routes: number;
  rendered: number;
  /** ConfigMap and Secret written (false: unchanged since the last write). */
  applied: boolean;
  deleted: boolean;
  statuses: number;
  events: number;
  /** Writes refused because the namespace is being deleted. */
  terminating: boolean;
}

interface Applied {
  hash: string;
  /** Of the credentials Secret alone: a change that leaves it alone writes only the ConfigMap. */
  secretHash: string;
  credentials: Record<string, string>;
}

export class NamespaceReconciler {
  readonly #d: ReconcilerDeps;
  readonly #now: () => Date;
  readonly #applied = new Map<string, Applied>();
  /** Fingerprints of the credentials data this replica wrote lately, per namespace. */
  readonly #written = new Map<string, string[]>();
  /** The ConfigMaps this replica wrote lately, per namespace, as the cache would hold them. */
  readonly #writtenConfigMaps = new Map<string, LiveRendered[]>();

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Bumped by forgetApplied, so a reconcile already running does not record its write as current. */
  #epoch = 0;

  /** Makes the next reconcile write the objects even if unchanged (resync; drift repair). */
  forgetApplied(namespace?: string): void {
    this.#epoch++;
    if (namespace === undefined) this.#applied.clear();
    else this.#applied.delete(namespace);
  }

  /** The credentials last written to a namespace, to tell our own writes from someone else's. */
  appliedCredentials(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.#applied.get(namespace)?.credentials;
  }

  /**
   * Whether the ConfigMap as a watch event shows it (undefined: deleted) is
   * one this replica wrote lately (its own write coming back, maybe behind
   * a newer one), not someone else's edit. Recorded before the write is
   * sent, so an event that beats the write's response counts too.
   */
  isOwnConfigMapWrite(namespace: string, live: LiveRendered | undefined): boolean {
    return !!live && (this.#writtenConfigMaps.get(namespace) ?? []).some((w) => isUpToDate(live, w));
  }

  /** Whether credentials data seen in a watch event is one this replica wrote (recently). */
  isOwnCredentialsWrite(namespace: string, data: Readonly<Record<string, string>>): boolean {
    return this.#written.get(namespace)?.includes(dataFingerprint(data)) ?? false;
  }

  #rememberWrite(namespace: string, data: Readonly<Record<string, string>>): void {
    const list = this.#written.get(namespace) ?? [];
    list.push(dataFingerprint(data));
    this.#written.set(namespace, list.slice(-16));
  }

  async reconcile(namespace: string): Promise<ReconcileResult> {
    const result: ReconcileResult = { routes: 0, rendered: 0, applied: false, deleted: false, statuses: 0, events: 0, terminating: false };
    const routes = this.#d.routes(namespace).filter((r) => !r.metadata.deletionTimestamp);
    result.routes = routes.length;
    const { writer, log } = this.#d;

    try {
      if (!routes.length) {
        // The last LLMRoute is gone: so are the rendered objects (config first, so no config outlives its keys).
        await writer.remove('ConfigMap', namespace, CONFIGMAP_NAME);
        await writer.remove('Secret', namespace, CREDENTIALS_SECRET_NAME);
        this.#applied.delete(namespace);
        this.#written.delete(namespace);
        this.#writtenConfigMaps.delete(namespace);
        result.deleted = true;
        log.info('no LLMRoutes left: removed the rendered config', { namespace });
        return result;
      }

      const epoch = this.#epoch;
      const now = this.#now();
      const render = renderNamespace(routes, this.#d.secrets(namespace), { now, ...(this.#d.keyDestinations ? { keyDestinations: this.#d.keyDestinations } : {}) });
      result.rendered = render.rendered.length;
      const owners = ownerReferences(routes);
      const cm = configMapManifest(namespace, render.configYaml, owners);
      const finalSecret = credentialsSecretManifest(namespace, render.credentials, owners);
      const secretHash = createHash('sha256').update(JSON.stringify(finalSecret)).digest('hex');
      const hash = createHash('sha256').update(JSON.stringify([cm, secretHash])).digest('hex');
      const last = this.#applied.get(namespace);

      if (last?.hash !== hash) {
        const liveSecret = this.#d.live(namespace, 'Secret');
        const before = credentialsBeforeConfig(liveSecret?.data, render.credentials);
        const twoSteps = !sameData(before, render.credentials);
        // Without a memory of the last write, the cluster's objects say what is current.
        const secretCurrent = last ? last.secretHash === secretHash : isUpToDate(liveSecret, slimRendered(finalSecret, false));
        const cmShape = slimRendered(cm, false);
        const cmCurrent = !last && isUpToDate(this.#d.live(namespace, 'ConfigMap'), cmShape);
        const writes = twoSteps || !secretCurrent || !cmCurrent;
        if (writes) {
          this.#rememberWrite(namespace, before);
          this.#rememberWrite(namespace, render.credentials);
          if (!cmCurrent) this.#writtenConfigMaps.set(namespace, [...(this.#writtenConfigMaps.get(namespace) ?? []), cmShape].slice(-16));
        }
        try {
          if (twoSteps) await writer.apply(credentialsSecretManifest(namespace, before, owners));
          else if (!secretCurrent) await writer.apply(finalSecret);
          if (!cmCurrent) await writer.apply(cm);
          if (twoSteps) await writer.apply(finalSecret);
        } catch (err) {
          this.#applied.delete(namespace);
          throw scrub(err, [...Object.values(before)]);
        }
        // Something may have undone the write meanwhile (forgetApplied): then the next reconcile writes again.
        if (epoch === this.#epoch) this.#applied.set(namespace, { hash, secretHash, credentials: { ...render.credentials } });
        if (writes) {
          result.applied = true;
          log.info('rendered', { namespace, routes: routes.length, rendered: render.rendered, keys: Object.keys(render.credentials).length });
        }
      }

      for (const route of routes) {
        const next = render.statuses.get(route.metadata.name)!;
        if (!statusChanged(route.status, next)) continue;
        const exists = await writer.applyRouteStatus(namespace, route.metadata.name, next);
        if (!exists) continue;
        result.statuses++;
        for (const e of routeEvents(route.status, next)) {
          try {
            await writer.createEvent(namespace, eventManifest(route, e, { now, instance: this.#d.instance, suffix: eventSuffix(now) }));
            result.events++;
          } catch (err) {
            log.warn('could not record an event', { namespace, route: route.metadata.name, reason: e.reason, error: (err as Error).message });
          }
        }
      }
      return result;
    } catch (err) {
      if (err instanceof KubeApiError && err.namespaceTerminating) {
        result.terminating = true;
        log.debug('namespace is being deleted: nothing to write', { namespace });
        return result;
      }
      throw err;
    }
  }
}

function dataFingerprint(data: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(data).sort().map((k) => [k, data[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** Like client-go's event names: `<object>.<hex time><random>`. */
function eventSuffix(now: Date): string {
  return `${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`;
}

/** An error whose message cannot carry a key value any more. */
function scrub(err: unknown, base64Values: string[]): unknown {
  if (!(err instanceof Error)) return err;
  const clean = redact(err.message, base64Values);
  if (clean !== err.message) err.message = clean;
  return err;
}
