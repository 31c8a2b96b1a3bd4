/**
 * The writes a namespace reconcile makes, as a port: the reconciler is
 * tested against a fake, kube-cluster-writer.ts talks to the API server.
 */
import type { RouteStatus } from '../render/types.ts';

export interface AppliedManifest {
  apiVersion: string;
  kind: 'ConfigMap' | 'Secret';
  metadata: { name: string; namespace: string };
}

export interface ClusterWriter {
  /** Server-side apply (force) of a ConfigMap or Secret. */
  apply(manifest: AppliedManifest): Promise<void>;
  /** Deletes a ConfigMap or Secret; a missing one is fine. */
  remove(kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Promise<void>;
  /** Server-side apply of an LLMRoute's status; false when the route is gone. */
  applyRouteStatus(namespace: string, name: string, status: RouteStatus): Promise<boolean>;
  createEvent(namespace: string, event: object): Promise<void>;
}
