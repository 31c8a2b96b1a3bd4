/**
 * One LLMRoute (its spec validated, defaults filled) as one route of the
 * sidecar's config.yaml (SPEC section 3). Every field is copied; keys come
 * out in one fixed order so the YAML is stable. Pure.
 */
import type { ConfigRoute, ConfigTarget, LLMRouteSpec, LLMRouteTarget } from '../../../api/v1alpha1/types.ts';
import { DEFAULT_MIN_REMAINING_PERCENT, DEFAULT_RETRY_BUDGET } from '../../../api/v1alpha1/schema.ts';
import { credentialFileKey } from './credential-key.ts';

/** `spec` must have passed validate(llmRouteSpecSchema, ...), which fills every default. */
export function toConfigRoute(namespace: string, name: string, spec: LLMRouteSpec): ConfigRoute {
  const retry = spec.retry ?? {};
  const timeouts = spec.timeouts ?? {};
  const breaker = spec.circuitBreaker ?? {};
  const store = spec.responseStore ?? {};
  const route: ConfigRoute = {
    name,
    aliases: [...(spec.aliases ?? [])],
    targets: spec.targets.map((t) => toConfigTarget(namespace, name, t)),
    retry: {
      attempts: retry.attempts,
      backoff: { initial: retry.backoff?.initial, max: retry.backoff?.max },
      retryAfterCap: retry.retryAfterCap,
    },
    fallbackOn: [...(spec.fallbackOn ?? [])],
    maxRequestBody: spec.maxRequestBody,
    timeouts: { connect: timeouts.connect, firstByte: timeouts.firstByte, firstContent: timeouts.firstContent, idle: timeouts.idle, total: timeouts.total },
    circuitBreaker: { consecutiveFailures: breaker.consecutiveFailures, openFor: breaker.openFor },
    responseStore: { maxEntries: store.maxEntries, maxBytes: store.maxBytes, ttl: store.ttl },
  };
  // The picking fields go out only when they say something other than the defaults: a route that
  // uses none renders as it did before them, which a sidecar older than them reads too.
  if (spec.balancing === 'least-latency') {
    const l = spec.latency ?? {};
    route.balancing = spec.balancing;
    route.latency = { halfLife: l.halfLife, outlierRatio: l.outlierRatio, ejectFor: l.ejectFor, minRequests: l.minRequests, maxEjectedPercent: l.maxEjectedPercent };
  }
  const rl = spec.rateLimitAware;
  if (rl && (rl.enabled === false || (rl.minRemainingPercent !== undefined && rl.minRemainingPercent !== DEFAULT_MIN_REMAINING_PERCENT))) {
    route.rateLimitAware = { enabled: rl.enabled, minRemainingPercent: rl.minRemainingPercent };
  }
  if (spec.affinity) route.affinity = { ...spec.affinity };
  if (spec.commit) route.commit = commitOf(spec.commit);
  // Hedging is off unless the route sets it: absent stays absent.
  if (spec.hedge) route.hedge = { after: spec.hedge.after, maxExtra: spec.hedge.maxExtra, budgetPercent: spec.hedge.budgetPercent, skipWithTools: spec.hedge.skipWithTools };
  // The retry budget is on by default (the sidecar fills it in): rendered only off its defaults, as the picking fields.
  const b = spec.retryBudget;
  if (b && (b.percent !== DEFAULT_RETRY_BUDGET.percent || b.minPerSecond !== DEFAULT_RETRY_BUDGET.minPerSecond || b.window !== DEFAULT_RETRY_BUDGET.window)) {
    route.retryBudget = { percent: b.percent, minPerSecond: b.minPerSecond, window: b.window };
  }
  return route;
}

/** The commit window as set: no field filled in (an absent one means no bound of that kind). */
function commitOf(c: NonNullable<LLMRouteSpec['commit']>): NonNullable<ConfigRoute['commit']> {
  const out: NonNullable<ConfigRoute['commit']> = {};
  if (c.afterTokens !== undefined) out.afterTokens = c.afterTokens;
  if (c.afterMs !== undefined) out.afterMs = c.afterMs;
  if (c.minTokensPerSecond !== undefined) out.minTokensPerSecond = c.minTokensPerSecond;
  return out;
}

function toConfigTarget(namespace: string, route: string, t: LLMRouteTarget): ConfigTarget {
  const out: ConfigTarget = { name: t.name, provider: t.provider, model: t.model };
  if (t.baseURL !== undefined) out.baseURL = t.baseURL;
  if (t.apiVersion !== undefined) out.apiVersion = t.apiVersion;
  out.priority = t.priority;
  out.weight = t.weight;
  if (t.params !== undefined) out.params = { ...(t.params.drop ? { drop: [...t.params.drop] } : {}), ...(t.params.set ? { set: structuredClone(t.params.set) } : {}) };
  if (t.maxTokens !== undefined) out.maxTokens = t.maxTokens;
  if (t.servesResponses !== undefined) out.servesResponses = t.servesResponses;
  if (t.region !== undefined) out.region = t.region;
  if (t.endpoint !== undefined) out.endpoint = t.endpoint;
  if (t.project !== undefined) out.project = t.project;
  if (t.location !== undefined) out.location = t.location;
  // openai-compatible targets may have no key: then the sidecar sends none; bedrock ones use the pod's AWS identity, vertex ones its Google identity.
  if (t.apiKeySecretRef) out.apiKey = { file: credentialFileKey(namespace, route, t.name) };
  return out;
}
