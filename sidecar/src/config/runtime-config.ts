/**
 * The config the sidecar runs on: validated, defaults filled, durations in
 * milliseconds, keys resolved, and every model name mapped to its route.
 * compileConfig is pure; load-config.ts does the reading.
 */
import type { ConfigFile, ConfigRoute, ConfigTarget } from '../../../api/v1alpha1/types.ts';
import { DEFAULT_AFFINITY_HEADER, DEFAULT_MIN_REMAINING_PERCENT, durationMs, sizeBytes } from '../../../api/v1alpha1/schema.ts';
import type { FallbackOn } from '../error-classes.ts';
import type { LogLevel } from '../../../common/log.ts';
import type { ProviderName } from '../providers/types.ts';
import { DEFAULT_BASE_URLS } from '../providers/index.ts';
import { bedrockRuntimeHost, vertexHost } from '../../../api/v1alpha1/enums.ts';
import { DEFAULT_AZURE_API_VERSION } from '../providers/openai.ts';
import type { Secret } from '../secret.ts';
import { hashChars } from '../affinity.ts';


export interface Target {
  /** `route/target`: the key of this target's breaker and cooldown state. */
  key: string;
  route: string;
  name: string;
  /** The name's hash, for affinity's rendezvous scores (affinity.ts). */
  hash: number;
  provider: ProviderName;
  model: string;
  baseURL: string;
  apiVersion?: string | undefined;
  priority: number;
  weight: number;
  apiKey?: Secret | undefined;
  /** Request shaping, applied to the provider's request body after translation. */
  params: { drop: readonly string[]; set: Readonly<Record<string, unknown>> } | undefined;
  /** max_tokens when the client sets none; undefined: the adapter's default for the model. */
  maxTokens: number | undefined;
  /** The target serves OpenAI's Responses API itself (openai, azure-openai; openai-compatible when it says so). */
  servesResponses: boolean;
  /** bedrock: the AWS region requests are signed for. */
  region?: string | undefined;
  /** vertex: the Google Cloud project and the Vertex AI location in the request path. */
  project?: string | undefined;
  location?: string | undefined;
}

/** Where a target's requests go: its baseURL, the provider's default, or for bedrock its endpoint or regional host. */
function targetBaseURL(t: ConfigTarget): string {
  if (t.provider === 'bedrock') return (t.endpoint ?? `https://${bedrockRuntimeHost(t.region ?? '')}`).replace(/\/+$/, '');
  if (t.provider === 'vertex') return (t.baseURL ?? `https://${vertexHost(t.location ?? '')}`).replace(/\/+$/, '');
  return (t.baseURL ?? DEFAULT_BASE_URLS[t.provider] ?? '').replace(/\/+$/, '');
}

export interface RetryPolicy {
  attempts: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  retryAfterCapMs: number;
}

export interface Timeouts {
  connectMs: number;
  /** Liveness: a stream's response headers or first byte. */
  firstByteMs: number;
  /** The answer: a stream's first content chunk, a non-stream request's whole response. */
  firstContentMs: number;
  idleMs: number;
  totalMs: number;
}

/** The bounds of a route's local store of served Responses API answers (0 entries: off). */
export interface ResponseStorePolicy {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

/**
 * A stream's commit window (commit-window.ts): its content is held until afterTokens tokens or
 * afterMs after the first content chunk, whichever comes first. Route.commit is undefined when the
 * route sets none: the stream commits at its first content chunk.
 */
export interface CommitPolicy {
  afterTokens: number | undefined;
  afterMs: number | undefined;
  minTokensPerSecond: number | undefined;
}

export interface BreakerPolicy {
  consecutiveFailures: number;
  openForMs: number;
}

/** Hedged requests (README, "Hedged requests"); a route without it never hedges. */
export interface HedgePolicy {
  afterMs: number;
  maxExtra: number;
  /** Hedges as a share of the route's recent requests: budgetPercent / 100. */
  budgetRatio: number;
  skipWithTools: boolean;
}

/** The retry budget (README, "Retry budget"): retries and fallbacks as a share of the route's requests. */
export interface RetryBudgetPolicy {
  /** percent / 100. */
  ratio: number;
  minPerSecond: number;
  windowMs: number;
}

/** balancing: least-latency (latency-policy.ts). */
export interface LatencyPolicy {
  /** The time constant of the decay: halfLife / ln 2, in ms. */
  tauMs: number;
  /** 0: no ejection. */
  outlierRatio: number;
  ejectForMs: number;
  minRequests: number;
  /** Share of a priority's targets that may be ejected at once, 0..1. */
  maxEjectedShare: number;
}

/** rateLimitAware (rate-limit-headers.ts); undefined on the route when off. */
export interface RateLimitPolicy {
  /** Near the limit: remaining / limit at or below this (0..0.5). */
  minRemainingShare: number;
}

/** affinity (affinity.ts); undefined on the route when off. */
export interface AffinityPolicy {
  key: 'header' | 'user' | 'promptPrefix';
  /** key: header: the header's name, lower case. */
  header: string;
  prefixChars: number;
}

export interface Route {
  name: string;
  aliases: string[];
  /** Sorted by priority, then by their order in the file. */
  targets: Target[];
  retry: RetryPolicy;
  fallbackOn: ReadonlySet<FallbackOn>;
  /** The largest request body this route takes (413 above it). */
  maxRequestBytes: number;
  timeouts: Timeouts;
  breaker: BreakerPolicy;
  responseStore: ResponseStorePolicy;
  /** Undefined: a stream commits at its first content chunk (no buffering, no timer). */
  commit: CommitPolicy | undefined;
  /** Undefined: the route does not hedge (the failover loop runs one try at a time). */
  hedge: HedgePolicy | undefined;
  retryBudget: RetryBudgetPolicy;
  balancing: 'weighted' | 'least-latency';
  /** Set with balancing: least-latency only. */
  latency: LatencyPolicy | undefined;
  rateLimit: RateLimitPolicy | undefined;
  affinity: AffinityPolicy | undefined;
}

export interface RuntimeConfig {
  listen: { host: string; port: number };
  admin: { host: string; port: number };
  logLevel?: LogLevel | undefined;
  routes: Route[];
  /** Route name and every alias → route. */
  models: Map<string, Route>;
}

/**
 * setTimeout's longest delay (about 24.8 days). Node fires a longer one after
 * 1 ms, which would turn `total: 600h` into an instant deadline.
 */
export const MAX_TIMER_MS = 2_147_483_647;
const timerMs = (d: string): number => Math.min(durationMs(d), MAX_TIMER_MS);

/** Resolves a target's key source to a Secret (or undefined when it has none). */
export type KeyResolver = (route: ConfigRoute, target: ConfigTarget) => Secret | undefined;

/**
 * Builds the runtime config from a file that passed validation (defaults
 * filled). Returns the problems that only show across routes, such as an
 * alias used twice.
 */
export function compileConfig(file: Required<Pick<ConfigFile, 'listen' | 'admin' | 'routes'>> & ConfigFile, resolveKey: KeyResolver): { config: RuntimeConfig } | { problems: string[] } {
  const problems: string[] = [];
  const models = new Map<string, Route>();
  const routes: Route[] = [];
  file.routes.forEach((r, i) => {
    const targets = r.targets.map((t): Target => ({
      key: `${r.name}/${t.name}`,
      route: r.name,
      name: t.name,
      hash: hashChars(t.name),
      provider: t.provider,
      model: t.model,
      baseURL: targetBaseURL(t),
      apiVersion: t.provider === 'azure-openai' ? (t.apiVersion ?? DEFAULT_AZURE_API_VERSION) : undefined,
      priority: t.priority ?? 0,
      weight: t.weight ?? 1,
      apiKey: resolveKey(r, t),
      params: t.params ? { drop: t.params.drop ?? [], set: t.params.set ?? {} } : undefined,
      maxTokens: t.maxTokens,
      servesResponses: t.provider === 'openai' || t.provider === 'azure-openai' || t.servesResponses === true,
      region: t.region,
      project: t.project,
      location: t.location,
    }));
    targets.sort((a, b) => a.priority - b.priority);
    const route: Route = {
      name: r.name,
      aliases: r.aliases ?? [],
      targets,
      retry: {
        attempts: r.retry!.attempts!,
        backoffInitialMs: timerMs(r.retry!.backoff!.initial!),
        backoffMaxMs: timerMs(r.retry!.backoff!.max!),
        retryAfterCapMs: timerMs(r.retry!.retryAfterCap!),
      },
      fallbackOn: new Set(r.fallbackOn),
      maxRequestBytes: sizeBytes(r.maxRequestBody!),
      timeouts: {
        connectMs: timerMs(r.timeouts!.connect!),
        firstByteMs: timerMs(r.timeouts!.firstByte!),
        firstContentMs: timerMs(r.timeouts!.firstContent!),
        idleMs: timerMs(r.timeouts!.idle!),
        totalMs: timerMs(r.timeouts!.total!),
      },
      breaker: {
        consecutiveFailures: r.circuitBreaker!.consecutiveFailures!,
        openForMs: timerMs(r.circuitBreaker!.openFor!),
      },
      responseStore: {
        maxEntries: r.responseStore!.maxEntries!,
        maxBytes: sizeBytes(r.responseStore!.maxBytes!),
        ttlMs: timerMs(r.responseStore!.ttl!),
      },
      commit: r.commit
        ? {
            afterTokens: r.commit.afterTokens,
            afterMs: r.commit.afterMs === undefined ? undefined : timerMs(r.commit.afterMs),
            minTokensPerSecond: r.commit.minTokensPerSecond,
          }
        : undefined,
      hedge: r.hedge
        ? { afterMs: timerMs(r.hedge.after), maxExtra: r.hedge.maxExtra!, budgetRatio: r.hedge.budgetPercent! / 100, skipWithTools: r.hedge.skipWithTools! }
        : undefined,
      retryBudget: {
        ratio: r.retryBudget!.percent! / 100,
        minPerSecond: r.retryBudget!.minPerSecond!,
        windowMs: timerMs(r.retryBudget!.window!),
      },
      balancing: r.balancing ?? 'weighted',
      latency:
        r.balancing === 'least-latency'
          ? {
              tauMs: Math.max(1, timerMs(r.latency!.halfLife!)) / Math.LN2,
              outlierRatio: r.latency!.outlierRatio!,
              ejectForMs: timerMs(r.latency!.ejectFor!),
              minRequests: r.latency!.minRequests!,
              maxEjectedShare: r.latency!.maxEjectedPercent! / 100,
            }
          : undefined,
      rateLimit: r.rateLimitAware?.enabled === false ? undefined : { minRemainingShare: (r.rateLimitAware?.minRemainingPercent ?? DEFAULT_MIN_REMAINING_PERCENT) / 100 },
      affinity: r.affinity
        ? { key: r.affinity.key, header: (r.affinity.header ?? DEFAULT_AFFINITY_HEADER).toLowerCase(), prefixChars: r.affinity.prefixChars ?? 1024 }
        : undefined,
    };
    for (const name of [r.name, ...route.aliases]) {
      const other = models.get(name);
      if (other && other !== route) problems.push(`routes[${i}]: model name '${name}' is already used by route '${other.name}'`);
      else models.set(name, route);
    }
    routes.push(route);
  });
  if (problems.length) return { problems };
  return {
    config: {
      listen: { host: file.listen.host!, port: file.listen.port! },
      admin: { host: file.admin.host!, port: file.admin.port! },
      logLevel: file.logLevel,
      routes,
      models,
    },
  };
}
