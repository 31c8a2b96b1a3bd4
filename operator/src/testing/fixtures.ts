/**
 * Builders of LLMRoutes and Secrets for unit tests.
 */
import type { LLMRoute, LLMRouteSpec } from '../../../api/v1alpha1/types.ts';
import type { SecretData } from '../render/types.ts';

export function llmRoute(
  name: string,
  spec: LLMRouteSpec | Record<string, unknown>,
  o: { namespace?: string; generation?: number; created?: string; status?: LLMRoute['status']; uid?: string } = {},
): LLMRoute {
  const route: LLMRoute = {
    apiVersion: 'llmroute.dev/v1alpha1',
    kind: 'LLMRoute',
    metadata: {
      name,
      namespace: o.namespace ?? 'shop',
      generation: o.generation ?? 1,
      uid: o.uid ?? `uid-${name}`,
      creationTimestamp: o.created ?? '2025-01-01T00:00:00Z',
    },
    spec: spec as LLMRouteSpec,
  };
  if (o.status) route.status = o.status;
  return route;
}

/** Secrets from plain values (base64-encoded as in Secret.data). */
export function secretsOf(plain: Record<string, Record<string, string>>): Map<string, SecretData> {
  return new Map(
    Object.entries(plain).map(([name, data]) => [name, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))]),
  );
}

export function openaiTarget(name: string, secret = 'openai-key', key = 'apiKey', extra: Record<string, unknown> = {}) {
  return { name, provider: 'openai' as const, model: 'gpt-4o-mini', apiKeySecretRef: { name: secret, key }, ...extra };
}
