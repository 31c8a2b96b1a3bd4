/**
 * Which cache changes mean a namespace must be reconciled. Pure.
 *
 * Every LLMRoute change does. A Secret change does only when an LLMRoute of
 * its namespace refers to that Secret (a Secret a route waits for appearing
 * included) and its data changed. The operator's own credentials Secret
 * counts when it changed under the operator's feet (edited or deleted by
 * someone else), so the next reconcile writes it again.
 */
import type { LLMRoute } from '../../../api/v1alpha1/types.ts';
import { referencedSecretNames } from '../render/secret-refs.ts';
import { CREDENTIALS_SECRET_NAME, sameData } from './manifests.ts';

export interface CachedSecret {
  metadata: { name: string; namespace?: string | undefined; resourceVersion?: string | undefined; uid?: string | undefined };
  data?: Record<string, string> | undefined;
}

/** The Secret names the LLMRoutes of a namespace refer to. */
export function referencedSecrets(routes: readonly LLMRoute[]): Set<string> {
  const out = new Set<string>();
  for (const r of routes) for (const n of referencedSecretNames(Array.isArray(r.spec?.targets) ? r.spec.targets : [])) out.add(n);
  return out;
}

export type SecretVerdict = 'ignore' | 'reconcile' | 'repair';

export function secretChangeVerdict(
  before: CachedSecret | undefined,
  after: CachedSecret | undefined,
  o: { routes: readonly LLMRoute[]; isOwnWrite: (data: Readonly<Record<string, string>>) => boolean },
): SecretVerdict {
  const s = after ?? before;
  if (!s) return 'ignore';
  if (s.metadata.name === CREDENTIALS_SECRET_NAME) {
    if (!o.routes.length) return 'ignore';
    if (!after) return 'repair';
    return o.isOwnWrite(after.data ?? {}) ? 'ignore' : 'repair';
  }
  if (!referencedSecrets(o.routes).has(s.metadata.name)) return 'ignore';
  if (before && after && sameData(before.data, after.data)) return 'ignore';
  return 'reconcile';
}

/**
 * A Secret as the cache keeps it: name, namespace, resourceVersion, uid and
 * data (which keys routes will name is not known up front, so every value
 * stays); labels, annotations, managedFields, type and stringData go.
 */
export function slimSecret(o: { metadata?: Record<string, unknown>; data?: Record<string, string> }): CachedSecret {
  const m = (o.metadata ?? {}) as CachedSecret['metadata'];
  return { metadata: { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion, uid: m.uid }, data: o.data ?? {} };
}

/**
 * An LLMRoute as the cache keeps it: what rendering, status and owner
 * references read (name, namespace, uid, resourceVersion, generation, the
 * creation and deletion times; spec; status). managedFields, labels,
 * annotations (kubectl's last-applied-configuration doubles a route),
 * finalizers and ownerReferences go.
 */
export function slimRoute(o: LLMRoute): LLMRoute {
  const m = o.metadata ?? ({} as LLMRoute['metadata']);
  const metadata: LLMRoute['metadata'] = { name: m.name };
  if (m.namespace !== undefined) metadata.namespace = m.namespace;
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.generation !== undefined) metadata.generation = m.generation;
  if (m.creationTimestamp !== undefined) metadata.creationTimestamp = m.creationTimestamp;
  if (m.deletionTimestamp !== undefined) metadata.deletionTimestamp = m.deletionTimestamp;
  const out: LLMRoute = { apiVersion: o.apiVersion, kind: o.kind, metadata, spec: o.spec };
  if (o.status !== undefined) out.status = o.status;
  return out;
}
