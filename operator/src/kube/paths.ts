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

export function configMapPath(ns: string, name: string): string {
  return `/api/v1/namespaces/${enc(ns)}/configmaps/${enc(name)}`;
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
