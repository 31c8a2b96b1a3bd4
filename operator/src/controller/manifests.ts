/**
 * The objects the operator writes, as plain manifests: the rendered
 * ConfigMap and Secret of a namespace, an LLMRoute's status (for
 * server-side apply on the status subresource) and a core/v1 Event. Pure.
 */
import { CREDENTIALS_SECRET_NAME } from '../../../api/v1alpha1/enums.ts';
import type { LLMRoute } from '../../../api/v1alpha1/types.ts';
import { LLMROUTE_API_VERSION } from '../kube/paths.ts';
import type { RouteEvent } from '../render/route-events.ts';
import type { RouteStatus } from '../render/types.ts';

export const CONFIGMAP_NAME = 'llmroute-config';
export { CREDENTIALS_SECRET_NAME };
export const CONFIG_KEY = 'config.yaml';
export const FIELD_MANAGER = 'llmroute-operator';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'llmroute';
export const COMPONENT = 'llmroute-operator';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/**
 * Every LLMRoute of the namespace owns the rendered objects, so the garbage
 * collector removes them once the last route is gone, even if that happens
 * while the operator is down. (The operator deletes them itself too.)
 */
export function ownerReferences(routes: readonly LLMRoute[]): OwnerReference[] {
  return routes
    .filter((r) => r.metadata.uid)
    .map((r) => ({ apiVersion: LLMROUTE_API_VERSION, kind: 'LLMRoute', name: r.metadata.name, uid: r.metadata.uid! }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function metadata(namespace: string, name: string, owners: readonly OwnerReference[]) {
  return { name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, ownerReferences: [...owners] };
}

export function configMapManifest(namespace: string, configYaml: string, owners: readonly OwnerReference[]) {
  return { apiVersion: 'v1', kind: 'ConfigMap' as const, metadata: metadata(namespace, CONFIGMAP_NAME, owners), data: { [CONFIG_KEY]: configYaml } };
}

/** `data` holds base64 values, as they came from the source Secrets. */
export function credentialsSecretManifest(namespace: string, data: Record<string, string>, owners: readonly OwnerReference[]) {
  return { apiVersion: 'v1', kind: 'Secret' as const, type: 'Opaque', metadata: metadata(namespace, CREDENTIALS_SECRET_NAME, owners), data: { ...data } };
}

export function routeStatusManifest(namespace: string, name: string, status: RouteStatus) {
  return { apiVersion: LLMROUTE_API_VERSION, kind: 'LLMRoute', metadata: { name, namespace }, status };
}

export function eventManifest(route: LLMRoute, e: RouteEvent, o: { now: Date; instance: string; suffix: string }) {
  const ts = o.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ns = route.metadata.namespace!;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${route.metadata.name}.${o.suffix}`, namespace: ns },
    involvedObject: {
      apiVersion: LLMROUTE_API_VERSION,
      kind: 'LLMRoute',
      name: route.metadata.name,
      namespace: ns,
      ...(route.metadata.uid ? { uid: route.metadata.uid } : {}),
      ...(route.metadata.resourceVersion ? { resourceVersion: route.metadata.resourceVersion } : {}),
    },
    type: e.type,
    reason: e.reason,
    message: e.message,
    source: { component: COMPONENT },
    reportingComponent: COMPONENT,
    reportingInstance: o.instance,
    firstTimestamp: ts,
    lastTimestamp: ts,
    count: 1,
  };
}

/**
 * The credentials to write before the ConfigMap: the new keys with their
 * new values plus the keys of the current Secret that the new config no
 * longer needs. A pod then never sees a config.yaml that names a key file
 * the Secret lacks (the old config still finds its keys; the new one finds
 * its own). The surplus keys go in a second write after the ConfigMap.
 */
export function credentialsBeforeConfig(current: Readonly<Record<string, string>> | undefined, next: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...(current ?? {}), ...next };
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]!]));
}

export function sameData(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  return ka.length === kb.length && ka.every((k) => (b ?? {})[k] === (a ?? {})[k]);
}
