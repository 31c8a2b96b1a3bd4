/**
 * The LLMRoute API (v1alpha1) and the sidecar's config file, as TypeScript
 * types. schema.ts describes the same fields for validation and for the CRD;
 * its property maps are typed against these interfaces, so a field added to
 * one and not the other fails the type check.
 */

import type { FallbackOn, LogLevel, Provider } from './enums.ts';

export type { FallbackOn, LogLevel, Provider } from './enums.ts';
/** A duration string: 250ms, 2s, 1m, 1h, 1m30s. */
export type Duration = string;

export interface RetrySpec {
  attempts?: number;
  backoff?: { initial?: Duration; max?: Duration };
  retryAfterCap?: Duration;
}

export interface TimeoutsSpec {
  connect?: Duration;
  firstByte?: Duration;
  firstContent?: Duration;
  idle?: Duration;
  total?: Duration;
}

/** Request shaping for one target, applied to the provider's own request body. */
export interface ParamsSpec {
  /** Parameters taken out before sending (e.g. temperature, for models that refuse it). */
  drop?: string[];
  /** Parameters set, over whatever the client sent. */
  set?: Record<string, unknown>;
}

/** The sidecar's local store of the Responses API answers it served (for previous_response_id across a failover). */
export interface ResponseStoreSpec {
  /** Most responses kept; 0 turns the store off. */
  maxEntries?: number;
  /** Most bytes kept (the serialised conversations), e.g. 16Mi. */
  maxBytes?: string;
  /** How long a response is kept after it was served. */
  ttl?: Duration;
}

/**
 * The commit window of a stream: hold its first content (afterTokens tokens or afterMs after
 * the first content chunk, whichever comes first) before committing, so that a stream that
 * starts and then stalls, crawls or breaks can still fall back invisibly.
 */
export interface CommitSpec {
  /** Commit once this many tokens (estimated: characters / 4) have come. */
  afterTokens?: number;
  /** Commit this long after the first content chunk. */
  afterMs?: Duration;
  /** At the window's end, a stream slower than this (tokens per second) fails over instead of committing. */
  minTokensPerSecond?: number;
}

/**
 * Hedged requests: when the first try has not produced its first content within `after`, the same
 * request starts on the next target too; the first to commit wins, the others are aborted.
 */
export interface HedgeSpec {
  after: Duration;
  /** Most hedges per request (default 1, at most 3). */
  maxExtra?: number;
  /** Hedges may be at most this share of the route's recent requests (default 10). */
  budgetPercent?: number;
  /** Never hedge a request that offers tools (their calls may have side effects). Default false. */
  skipWithTools?: boolean;
}

/** The share of a route's requests that retries and fallbacks together may add (Finagle / Envoy style). */
export interface RetryBudgetSpec {
  /** Retries and fallbacks as a percentage of the route's requests in the window (default 20). */
  percent?: number;
  /** Retries and fallbacks allowed per second whatever the traffic (default 3). */
  minPerSecond?: number;
  /** The sliding window the share is counted over (default 10s). */
  window?: Duration;
}

/** How a route picks among the healthy targets of one priority. */
export type Balancing = 'weighted' | 'least-latency';

/** balancing: least-latency: the latency estimate and the outlier ejection. */
export interface LatencySpec {
  /** Half-life of the time-decayed average of each target's latency. */
  halfLife?: Duration;
  /** Eject a target whose average is above this many times the median of its peers'. */
  outlierRatio?: number;
  /** How long an outlier stays ejected (moved behind its peers). */
  ejectFor?: Duration;
  /** Samples a target (and a peer) needs before it is judged. */
  minRequests?: number;
  /** At most this share of a priority's targets is ejected at once. */
  maxEjectedPercent?: number;
}

/** Rate-limit-aware picking: a target near its provider's limit moves behind its peers until the reset. */
export interface RateLimitAwareSpec {
  enabled?: boolean;
  /** Near the limit: remaining requests or tokens at or below this percent of the limit. */
  minRemainingPercent?: number;
}

/** Prompt-cache affinity: one session's requests go to the same healthy target. */
export interface AffinitySpec {
  key: 'header' | 'user' | 'promptPrefix';
  /** key: header: the request header naming the session. */
  header?: string;
  /** key: promptPrefix: how many characters of the prompt's start are hashed. */
  prefixChars?: number;
}

export interface CircuitBreakerSpec {
  consecutiveFailures?: number;
  openFor?: Duration;
}

/** The fields every target has, in the CRD and in the config file. */
export interface TargetCommon {
  name: string;
  provider: Provider;
  model: string;
  baseURL?: string;
  apiVersion?: string;
  priority?: number;
  weight?: number;
  params?: ParamsSpec;
  /** The max_tokens sent when the client sets none (anthropic targets, where it is required). */
  maxTokens?: number;
  /** openai-compatible only: the server serves OpenAI's Responses API itself (else Responses requests are translated to Chat). */
  servesResponses?: boolean;
  /** bedrock only (required): the AWS region, e.g. us-east-1. */
  region?: string;
  /** bedrock only: a VPC (PrivateLink) endpoint URL to send to instead of the regional host; requests are still signed for bedrock-runtime.<region>.amazonaws.com. */
  endpoint?: string;
  /** vertex only (required): the Google Cloud project. */
  project?: string;
  /** vertex only (required): the Vertex AI location, e.g. us-east5, europe-west1, or global. */
  location?: string;
}

export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface LLMRouteTarget extends TargetCommon {
  apiKeySecretRef?: SecretKeyRef;
}

/** The policy fields a route has, in the CRD and in the config file. */
export interface RoutePolicy {
  aliases?: string[];
  /** The largest request body this route takes, e.g. 32Mi. */
  maxRequestBody?: string;
  retry?: RetrySpec;
  fallbackOn?: FallbackOn[];
  timeouts?: TimeoutsSpec;
  circuitBreaker?: CircuitBreakerSpec;
  responseStore?: ResponseStoreSpec;
  /** Absent: a stream commits at its first content chunk. */
  commit?: CommitSpec;
  hedge?: HedgeSpec;
  retryBudget?: RetryBudgetSpec;
  balancing?: Balancing;
  latency?: LatencySpec;
  rateLimitAware?: RateLimitAwareSpec;
  affinity?: AffinitySpec;
}

export interface LLMRouteSpec extends RoutePolicy {
  targets: LLMRouteTarget[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface LLMRouteStatus {
  observedGeneration?: number;
  targets?: number;
  conditions?: Condition[];
}

export interface LLMRoute {
  apiVersion: 'llmroute.dev/v1alpha1';
  kind: 'LLMRoute';
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  spec: LLMRouteSpec;
  status?: LLMRouteStatus;
}

/** Where the sidecar reads a target's key: exactly one of the three. */
export interface ApiKeySource {
  file?: string;
  env?: string;
  value?: string;
}

export interface ConfigTarget extends TargetCommon {
  apiKey?: ApiKeySource;
}

export interface ConfigRoute extends RoutePolicy {
  name: string;
  targets: ConfigTarget[];
}

export interface ListenSpec {
  host?: string;
  port?: number;
}

export interface ConfigFile {
  /** The file's format version (enums.ts CONFIG_FORMAT_VERSION); absent means 1. */
  version?: number;
  listen?: ListenSpec;
  admin?: ListenSpec;
  logLevel?: LogLevel;
  routes: ConfigRoute[];
}
