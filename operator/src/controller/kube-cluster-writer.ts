/**
 * ClusterWriter against the API server: server-side apply with field manager
 * llmroute-operator (force: the operator owns these fields outright),
 * deletes that accept 404, status through the status subresource. Each
 * write first takes a token of the bucket, when one is given (the
 * operator's --kube-write-qps / --kube-write-burst).
 */
import type { AppliedManifest, ClusterWriter } from './cluster-writer.ts';
import { FIELD_MANAGER, routeStatusManifest } from './manifests.ts';
import { KubeApiError } from '../errors.ts';
import type { RouteStatus } from '../render/types.ts';
import type { KubeClient } from '../kube/kube-client.ts';
import type { TokenBucket } from '../kube/token-bucket.ts';
import { configMapPath, eventsPath, llmRouteStatusPath, secretPath } from '../kube/paths.ts';

const APPLY = { contentType: 'application/apply-patch+yaml', query: { fieldManager: FIELD_MANAGER, force: true } } as const;

/** Called once per API write, for the metrics. */
export type WriteObserver = (kind: string, verb: string) => void;

export function kubeClusterWriter(client: KubeClient, observe: WriteObserver = () => {}, bucket?: TokenBucket): ClusterWriter {
  const pathOf = (kind: 'ConfigMap' | 'Secret', ns: string, name: string) => (kind === 'ConfigMap' ? configMapPath(ns, name) : secretPath(ns, name));
  return {
    async apply(m: AppliedManifest) {
      await bucket?.take();
      observe(m.kind, 'apply');
      // JSON is YAML: the apply body goes as it is.
      await client.request('PATCH', pathOf(m.kind, m.metadata.namespace, m.metadata.name), { ...APPLY, body: m });
    },
    async remove(kind, ns, name) {
      await bucket?.take();
      observe(kind, 'delete');
      try {
        await client.request('DELETE', pathOf(kind, ns, name));
      } catch (err) {
        if (!(err instanceof KubeApiError && err.notFound)) throw err;
      }
    },
    async applyRouteStatus(ns, name, status: RouteStatus) {
      await bucket?.take();
      observe('LLMRoute/status', 'apply');
      try {
        await client.request('PATCH', llmRouteStatusPath(ns, name), { ...APPLY, body: routeStatusManifest(ns, name, status) });
        return true;
      } catch (err) {
        if (err instanceof KubeApiError && err.notFound) return false;
        throw err;
      }
    },
    async createEvent(ns, event) {
      await bucket?.take();
      observe('Event', 'create');
      await client.request('POST', eventsPath(ns), { body: event });
    },
  };
}
