/**
 * A ListWatchSource reading a collection path of the API server: paged
 * lists (a continue token that expires midway restarts the list, through
 * the reflector's 410 handling) and watches with bookmarks and a server-side
 * timeout, plus a client-side deadline in case the connection dies quietly.
 */
import type { ListResult, ListWatchSource } from './reflector.ts';
import type { KubeObject } from './object-store.ts';
import type { KubeClient, WatchEvent } from './kube-client.ts';

export interface KubeListWatchOptions<T> {
  /** Trims each object before it is stored (e.g. a Secret down to its data). */
  transform?: (o: any) => T;
  /** Default 500. */
  pageSize?: number;
  /** The server ends each watch after a random time in [min, 2·min) seconds; default 300. */
  watchTimeoutSeconds?: number;
  labelSelector?: string;
  fieldSelector?: string;
}

/** kubeListWatch with the client (and defaults) bound: how a controller opens its sources. */
export type ListWatchFactory = <T extends KubeObject>(path: string, o?: KubeListWatchOptions<T>) => ListWatchSource<T>;

interface ListBody {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

export function kubeListWatch<T extends KubeObject>(client: KubeClient, path: string, o: KubeListWatchOptions<T> = {}): ListWatchSource<T> {
  const transform = o.transform ?? ((x: unknown) => x as T);
  const selectors = { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector };
  const minTimeout = o.watchTimeoutSeconds ?? 300;
  return {
    async list(signal) {
      const items: T[] = [];
      let resourceVersion = '';
      let cont: string | undefined;
      do {
        const page = await client.request<ListBody>('GET', path, { query: { ...selectors, limit: o.pageSize ?? 500, continue: cont }, signal });
        if (!resourceVersion) resourceVersion = page.metadata?.resourceVersion ?? '';
        for (const item of page.items ?? []) items.push(transform(item));
        cont = page.metadata?.continue || undefined;
      } while (cont);
      return { items, resourceVersion } satisfies ListResult<T>;
    },
    async watch(resourceVersion, onEvent, signal) {
      const timeoutSeconds = minTimeout + Math.floor(Math.random() * minTimeout);
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), (timeoutSeconds + 30) * 1000);
      timer.unref();
      const both = AbortSignal.any([signal, deadline.signal]);
      try {
        await client.watch<T>(
          path,
          { ...selectors, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
          (e: WatchEvent<T>) => onEvent(e.type === 'BOOKMARK' ? e : { type: e.type, object: transform(e.object) }),
          both,
        );
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
