/**
 * API paths of the resources the operator touches. Pure.
 */
import { GROUP, PLURAL, VERSION } from '../../../api/v1alpha1/crd.ts';

const enc = encodeURIComponent;

export const LLMROUTE_API_VERSION = `${GROUP}/${VERSION}`;

/** LLMRoutes of one namespace, or of all when ns is undefined. */
export function llmRoutesPath(ns?: string): string {
  return ns === undefined ? `/apis/${GROUP}/${VERSION}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/namespaces/${enc(ns)}/${PLURAL}`;
}

export function llmRouteStatusPath(ns: string, name: string): string {
  return `${llmRoutesPath(ns)}/${enc(name)}/status`;
}

export function secretsPath(ns?: string): string {
  return ns === undefined ? '/api/v1/secrets' : `/api/v1/namespaces/${enc(ns)}/secrets`;
}

export function secretPath(ns: string, name: string): string {
  return `${secretsPath(ns)}/${enc(name)}`;
}

/** ConfigMaps of one namespace, or of all when ns is undefined. */
export function configMapsPath(ns?: string): string {
  return ns === undefined ? '/api/v1/configmaps' : `/api/v1/namespaces/${enc(ns)}/configmaps`;
}

export function configMapPath(ns: string, name: string): string {
  return `${configMapsPath(ns)}/${enc(name)}`;
}

export function eventsPath(ns: string): string {
  return `/api/v1/namespaces/${enc(ns)}/events`;
}

export function leasesPath(ns: string): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${enc(ns)}/leases`;
}

export function leasePath(ns: string, name: string): string {
  return `${leasesPath(ns)}/${enc(name)}`;
}

/** A request as the metrics count it: the verb the API server would log and the resource (with a subresource: `llmroutes/status`). */
export interface RequestKind {
  verb: 'list' | 'watch' | 'get' | 'create' | 'update' | 'patch' | 'apply' | 'delete' | 'other';
  resource: string;
}

/**
 * What a request to `path` is: `GET /api/v1/secrets` a list (a watch when
 * `watch`), `GET .../secrets/k` a get, a PATCH with the apply content type
 * an apply. Pure; the path without its query.
 */
export function requestKind(method: string, path: string, o: { watch?: boolean; contentType?: string | undefined } = {}): RequestKind {
  const seg = path.split('?')[0]!.split('/').filter(Boolean);
  // /api/v1/... or /apis/GROUP/VERSION/...
  let rest = seg[0] === 'api' ? seg.slice(2) : seg[0] === 'apis' ? seg.slice(3) : seg;
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const resource = rest[0] === undefined ? 'unknown' : rest[2] ? `${rest[0]}/${rest[2]}` : rest[0];
  const named = rest.length >= 2;
  const verb: RequestKind['verb'] = (() => {
    switch (method.toUpperCase()) {
      case 'GET':
        return o.watch ? 'watch' : named ? 'get' : 'list';
      case 'POST':
        return 'create';
      case 'PUT':
        return 'update';
      case 'PATCH':
        return o.contentType === 'application/apply-patch+yaml' ? 'apply' : 'patch';
      case 'DELETE':
        return 'delete';
      default:
        return 'other';
    }
  })();
  return { verb, resource };
}
