/**
 * The routes' stores of served Responses API answers (responses/response-store.ts),
 * one per route sized by its responseStore, kept across config reloads while
 * the route's limits stay the same.
 */
import type { Clock } from '../../../common/clock.ts';
import type { ResponseStorePolicy } from '../config/runtime-config.ts';
import { ResponseStore, type StoredResponse } from './responses/response-store.ts';

interface Held {
  store: ResponseStore;
  limits: ResponseStorePolicy;
}

export class ResponseStores {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #byRoute = new Map<string, Held>();

  constructor(clock: Pick<Clock, 'now'>) {
    this.#clock = clock;
  }

  /** The route's store; undefined when the route keeps none (maxEntries 0). */
  for(route: { name: string; responseStore: ResponseStorePolicy }): ResponseStore | undefined {
    const l = route.responseStore;
    if (l.maxEntries === 0) return undefined;
    let h = this.#byRoute.get(route.name);
    if (!h || h.limits.maxEntries !== l.maxEntries || h.limits.maxBytes !== l.maxBytes || h.limits.ttlMs !== l.ttlMs) {
      h = { store: new ResponseStore({ ...l, now: () => this.#clock.now() }), limits: l };
      this.#byRoute.set(route.name, h);
    }
    return h.store;
  }

  /** A response id in whichever route's store holds it. */
  find(id: string): { route: string; stored: StoredResponse; store: ResponseStore } | undefined {
    for (const [route, h] of this.#byRoute) {
      const stored = h.store.get(id);
      if (stored) return { route, stored, store: h.store };
    }
    return undefined;
  }

  /** Drops the stores of routes no longer in the config. */
  retain(routes: Iterable<string>): void {
    const live = new Set(routes);
    for (const name of this.#byRoute.keys()) if (!live.has(name)) this.#byRoute.delete(name);
  }

  /** Bytes held across every route (what the README's memory ceiling bounds). */
  get bytes(): number {
    let n = 0;
    for (const h of this.#byRoute.values()) n += h.store.bytes;
    return n;
  }
}
