/**
 * The one description of every LLMRoute and config-file field: types,
 * enums, bounds, patterns, defaults and the cross-field rules. From it come
 * the CRD's OpenAPI schema with its CEL rules (crd.ts) and the sidecar's
 * config validation (validate.ts). Property maps are typed against types.ts
 * (`Props<T>` needs exactly T's keys), so the three cannot drift apart.
 */
import type {
  AffinitySpec,
  ApiKeySource,
  LatencySpec,
  RateLimitAwareSpec,
  CircuitBreakerSpec,
  CommitSpec,
  HedgeSpec,
  RetryBudgetSpec,
  ResponseStoreSpec,
  ConfigFile,
  ConfigRoute,
  ConfigTarget,
  LLMRouteSpec,
  LLMRouteTarget,
  ListenSpec,
  ParamsSpec,
  RetrySpec,
  SecretKeyRef,
  TimeoutsSpec,
} from './types.ts';
import { CONFIG_FORMAT_VERSION, CREDENTIALS_SECRET_NAME, DEFAULT_ADMIN, DEFAULT_FALLBACK_ON, DEFAULT_LISTEN, FALLBACK_ON, KEYLESS_PROVIDERS, LOG_LEVELS, PROVIDERS } from './enums.ts';

/** A cross-field rule: CEL for the API server, and the same check in TypeScript for the sidecar. */
export interface Rule {
  /**
   * CEL, evaluated by the API server with `self` bound to the node. `null` only where the API
   * server cannot evaluate one (it gives CEL no type for free-form values): then the operator's
   * own validation refuses the route (Accepted=False) and the sidecar refuses the config file.
   */
  cel: string | null;
  message: string;
  /** The same rule for the sidecar's validator; true means valid. */
  check: (self: any) => boolean;
}

export interface SchemaNode {
  /** `json`: any JSON value (a free-form parameter); the CRD keeps it as it is (x-kubernetes-preserve-unknown-fields). */
  type: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'json';
  description?: string;
  properties?: Record<string, SchemaNode>;
  /** A map: any keys, each value of this schema (instead of `properties`). */
  additionalProperties?: SchemaNode;
  maxProperties?: number;
  required?: readonly string[];
  items?: SchemaNode;
  enum?: readonly string[];
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  rules?: readonly Rule[];
  /** Properties of which exactly one must be set. */
  oneOf?: readonly string[];
}

type Props<T> = { [K in keyof Required<T>]: SchemaNode };

export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
export const MAX_TARGETS = 16;
/** A target or route name: letters, digits, '-', '_' and '.', starting and ending with a letter or digit. */
export const NAME_PATTERN = '^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

const duration = (description: string, dflt?: string): SchemaNode => ({
  type: 'string',
  description: `${description} A duration such as 250ms, 2s, 1m.`,
  pattern: DURATION_PATTERN,
  maxLength: 32,
  ...(dflt === undefined ? {} : { default: dflt }),
});

const backoffProps: Props<NonNullable<RetrySpec['backoff']>> = {
  initial: duration('The first backoff delay; each retry doubles it, with full jitter.', '200ms'),
  max: duration('The longest backoff delay.', '2s'),
};

const retryProps: Props<RetrySpec> = {
  attempts: {
    type: 'integer',
    description: 'Extra tries on the same target before moving on to the next one.',
    minimum: 0,
    maximum: 10,
    default: 1,
  },
  backoff: {
    type: 'object',
    description: 'Exponential backoff with full jitter between tries on the same target.',
    properties: backoffProps,
    default: {},
    rules: [
      {
        cel: '!has(self.initial) || !has(self.max) || duration(self.initial) <= duration(self.max)',
        message: 'backoff.initial must not be longer than backoff.max',
        check: (b) => b.initial === undefined || b.max === undefined || durationMs(b.initial) <= durationMs(b.max),
      },
    ],
  },
  retryAfterCap: duration('Honour a Retry-After up to this long; a longer one moves on at once and cools the target down.', '10s'),
};

const timeoutsProps: Props<TimeoutsSpec> = {
  connect: duration('Time to open a connection to the provider.', '2s'),
  firstByte: duration(
    "Liveness of a stream: time until the provider's response headers or any first byte of the stream (a role chunk, a ping, a reasoning event). A provider that accepts the connection and says nothing is left after this. Non-stream answers arrive whole, so they are bounded by firstContent instead.",
    '15s',
  ),
  firstContent: duration(
    'Time until the answer starts: a stream, its first content chunk (the commit point; reasoning models think first); a non-stream request, the whole answer (long generations take minutes).',
    '10m',
  ),
  idle: duration('Longest gap between two chunks of a response once it flows.', '30s'),
  total: duration("The whole request, every try and backoff included (the OpenAI and Anthropic SDKs' own default is 10 minutes).", '10m'),
};

const breakerProps: Props<CircuitBreakerSpec> = {
  consecutiveFailures: {
    type: 'integer',
    description: 'Open the circuit after this many failures in a row.',
    minimum: 1,
    maximum: 1000,
    default: 5,
  },
  openFor: duration('How long the circuit stays open before one probe is let through (half-open).', '30s'),
};

const commitProps: Props<CommitSpec> = {
  afterTokens: {
    type: 'integer',
    description:
      'Commit the stream once this many tokens of content have come (estimated as the characters of its text, tool-call arguments and reasoning, divided by 4), or at afterMs if that comes first.',
    minimum: 1,
    maximum: 100_000,
  },
  afterMs: {
    ...duration('Commit the stream this long after its first content chunk, or at afterTokens if that comes first.'),
    rules: [
      {
        cel: "duration(self) > duration('0s')",
        message: 'commit.afterMs must be longer than 0',
        check: (d: string) => durationMs(d) > 0,
      },
    ],
  },
  minTokensPerSecond: {
    type: 'integer',
    description:
      'At the end of the window, a stream slower than this (tokens per second after its first content chunk) is a failed try (class timeout) and falls back invisibly instead of committing.',
    minimum: 1,
    maximum: 100_000,
  },
};

const commitNode: SchemaNode = {
  type: 'object',
  description:
    'The commit window of a stream (README, "Commit window"): the first content is held, not sent, until afterTokens tokens or afterMs after the first content chunk, whichever comes first; a stall, a crawl below minTokensPerSecond or an error inside it falls back invisibly. A stream that finishes inside it is sent at once. Absent: a stream commits at its first content chunk. Non-stream requests are not affected.',
  properties: commitProps,
  rules: [
    {
      cel: 'has(self.afterTokens) || has(self.afterMs)',
      message: 'commit needs afterTokens or afterMs: the window ends at whichever comes first',
      check: (c: CommitSpec) => c.afterTokens !== undefined || c.afterMs !== undefined,
    },
  ],
};

/** A route's commit window must end inside its total deadline. */
const commitWithinTotal: Rule = {
  cel: '!has(self.commit) || !has(self.commit.afterMs) || !has(self.timeouts) || !has(self.timeouts.total) || duration(self.commit.afterMs) < duration(self.timeouts.total)',
  message: 'commit.afterMs must be shorter than timeouts.total',
  check: (r) => r.commit?.afterMs === undefined || r.timeouts?.total === undefined || durationMs(r.commit.afterMs) < durationMs(r.timeouts.total),
};
/** The most hedges one request may start. */
export const MAX_HEDGE_EXTRA = 3;

const hedgeProps: Props<HedgeSpec> = {
  after: duration('Start the same request on the next target when the first try has produced no content (a stream: its first content chunk; a non-stream request: its whole answer) within this long; each further hedge waits as long again.'),
  maxExtra: {
    type: 'integer',
    description: `Most hedges one request starts (each on the next target of its plan), at most ${MAX_HEDGE_EXTRA}.`,
    minimum: 1,
    maximum: MAX_HEDGE_EXTRA,
    default: 1,
  },
  budgetPercent: {
    type: 'integer',
    description: "Hedges may be at most this percentage of the route's requests in the last 10 s of this pod, so they cannot double the bill under load.",
    minimum: 1,
    maximum: 100,
    default: 10,
  },
  skipWithTools: {
    type: 'boolean',
    description: 'Never hedge a request that offers tools (tools, functions): a route whose tool calls have side effects says so here.',
    default: false,
  },
};

const hedgeRules: Rule[] = [
  {
    cel: "!has(self.after) || duration(self.after) > duration('0s')",
    message: 'hedge.after must be longer than 0s',
    check: (h: HedgeSpec) => !(durationMs(h.after) <= 0),
  },
];

/** The retry budget's defaults: they never bind in normal operation (README, "Retry budget"). */
export const DEFAULT_RETRY_BUDGET = { percent: 20, minPerSecond: 3, window: '10s' } as const;

const retryBudgetProps: Props<RetryBudgetSpec> = {
  percent: {
    type: 'integer',
    description: "Retries and fallbacks together may add at most this percentage of the route's requests in the window; past it a request gets one try per target, in priority order, and no backoff waits.",
    minimum: 0,
    maximum: 1000,
    default: DEFAULT_RETRY_BUDGET.percent,
  },
  minPerSecond: {
    type: 'integer',
    description: 'Retries and fallbacks allowed per second of the window whatever the traffic, so a quiet route still retries.',
    minimum: 0,
    maximum: 100_000,
    default: DEFAULT_RETRY_BUDGET.minPerSecond,
  },
  window: duration('The sliding window the requests, retries and fallbacks are counted over; from 1s to 5m.', DEFAULT_RETRY_BUDGET.window),
};

const retryBudgetRules: Rule[] = [
  {
    cel: "!has(self.window) || (duration(self.window) >= duration('1s') && duration(self.window) <= duration('5m'))",
    message: 'retryBudget.window must be from 1s to 5m',
    check: (b: RetryBudgetSpec) => b.window === undefined || (durationMs(b.window) >= 1000 && durationMs(b.window) <= 300_000),
  },
];

/** A size in bytes, or with a binary suffix: 1048576, 512Ki, 32Mi, 1Gi. */
export const SIZE_PATTERN = '^[0-9]+(Ki|Mi|Gi)?$';
const SIZE_UNIT: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** Bytes of a size string; NaN when it does not match SIZE_PATTERN. */
export function sizeBytes(text: string): number {
  const m = typeof text === 'string' ? /^([0-9]+)(Ki|Mi|Gi)?$/.exec(text) : null;
  return m ? Number(m[1]) * SIZE_UNIT[m[2] ?? '']! : Number.NaN;
}

/** The response store's bounds when a route sets none (README, "Responses API"). */
export const DEFAULT_RESPONSE_STORE = { maxEntries: 1000, maxBytes: '16Mi', ttl: '1h' } as const;
/** The most bytes one route's response store may hold. */
export const MAX_RESPONSE_STORE_BYTES = '256Mi';

const responseStoreProps: Props<ResponseStoreSpec> = {
  maxEntries: {
    type: 'integer',
    description: 'Most responses kept (least recently used go first); 0 turns the store off, so previous_response_id works only on the target that served the response.',
    minimum: 0,
    maximum: 100_000,
    default: DEFAULT_RESPONSE_STORE.maxEntries,
  },
  maxBytes: {
    type: 'string',
    description: `Most bytes kept, counted as the serialised conversations, e.g. 16Mi; at most ${MAX_RESPONSE_STORE_BYTES}. Counts against the sidecar's memory limit.`,
    pattern: SIZE_PATTERN,
    maxLength: 16,
    default: DEFAULT_RESPONSE_STORE.maxBytes,
    rules: [
      {
        cel: `quantity(self).compareTo(quantity('${MAX_RESPONSE_STORE_BYTES}')) <= 0`,
        message: `responseStore.maxBytes must be at most ${MAX_RESPONSE_STORE_BYTES}`,
        check: (s: string) => sizeBytes(s) <= sizeBytes(MAX_RESPONSE_STORE_BYTES),
      },
    ],
  },
  ttl: duration('How long a served response is kept for previous_response_id.', DEFAULT_RESPONSE_STORE.ttl),
};

/** How a route picks among the healthy targets of a priority (README, "Routing rules"). */
export const BALANCING = ['weighted', 'least-latency'] as const;
export const AFFINITY_KEYS = ['header', 'user', 'promptPrefix'] as const;
export const DEFAULT_AFFINITY_HEADER = 'x-llmroute-session';
export const DEFAULT_MIN_REMAINING_PERCENT = 5;

const latencyProps: Props<LatencySpec> = {
  halfLife: duration("balancing: least-latency: half-life of each target's time-decayed average latency (a stream's time to first content, a whole answer's time).", '10s'),
  outlierRatio: {
    type: 'integer',
    description: "Eject a target whose average latency is above this many times the median of its peers' (same priority); 0 turns ejection off.",
    minimum: 0,
    maximum: 100,
    default: 3,
  },
  ejectFor: duration('How long an outlier stays ejected: behind its peers, tried only when they fail.', '30s'),
  minRequests: { type: 'integer', description: 'Answers a target and its peers need before a target is judged an outlier.', minimum: 1, maximum: 100_000, default: 20 },
  maxEjectedPercent: { type: 'integer', description: "At most this percent of a priority's targets is ejected at once (never the last one).", minimum: 0, maximum: 100, default: 50 },
};

const rateLimitAwareProps: Props<RateLimitAwareSpec> = {
  enabled: { type: 'boolean', description: "Read the serving target's rate-limit headers (x-ratelimit-*, anthropic-ratelimit-*) and move a target near its limit behind its peers until the limit resets.", default: true },
  minRemainingPercent: {
    type: 'integer',
    description: 'Near the limit: remaining requests or tokens at or below this percent of the limit (0: only when none remain).',
    minimum: 0,
    maximum: 50,
    default: DEFAULT_MIN_REMAINING_PERCENT,
  },
};

const affinityProps: Props<AffinitySpec> = {
  key: {
    type: 'string',
    description:
      "What names a session: header (a request header, default x-llmroute-session), user (the body's prompt_cache_key, user, safety_identifier or Anthropic metadata.user_id) or promptPrefix (a hash of the prompt's first prefixChars characters).",
    enum: AFFINITY_KEYS,
  },
  header: { type: 'string', description: `key: header: the request header that names the session (default ${DEFAULT_AFFINITY_HEADER}).`, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", maxLength: 128 },
  prefixChars: { type: 'integer', description: "key: promptPrefix: characters of the prompt's start (system, then the first messages) that are hashed.", minimum: 16, maximum: 1_048_576, default: 1024 },
};

/** The request-body limit when a route sets none: Anthropic documents 32 MB per Messages request (images, PDFs). */
export const DEFAULT_MAX_REQUEST_BODY = '32Mi';
/** The largest maxRequestBody a route may set. */
export const MAX_REQUEST_BODY_CEILING = '256Mi';

/** Route-level fields shared by LLMRoute.spec and a config file route. */
function policyProps() {
  return {
    maxRequestBody: {
      type: 'string',
      description: `The largest request body this route takes (413 above it), e.g. 32Mi. At most ${MAX_REQUEST_BODY_CEILING}. Size the sidecar's memory limit for it (README, "Request size").`,
      pattern: SIZE_PATTERN,
      maxLength: 16,
      default: DEFAULT_MAX_REQUEST_BODY,
      rules: [
        {
          cel: `quantity(self).compareTo(quantity('${MAX_REQUEST_BODY_CEILING}')) <= 0`,
          message: `maxRequestBody must be at most ${MAX_REQUEST_BODY_CEILING}`,
          check: (s: string) => sizeBytes(s) <= sizeBytes(MAX_REQUEST_BODY_CEILING),
        },
      ],
    },
    aliases: {
      type: 'array',
      description: 'More model names that select this route.',
      maxItems: 32,
      items: { type: 'string', minLength: 1, maxLength: 256 },
      rules: [
        {
          cel: 'self.all(a, self.exists_one(b, b == a))',
          message: 'aliases must be unique',
          check: (a: string[]) => new Set(a).size === a.length,
        },
      ],
    },
    retry: { type: 'object', description: 'Retries on the same target.', properties: retryProps, default: {} },
    fallbackOn: {
      type: 'array',
      description: 'The error classes that move a request on to the next target. auth always does; bad-request never does.',
      items: { type: 'string', enum: FALLBACK_ON },
      maxItems: FALLBACK_ON.length,
      default: DEFAULT_FALLBACK_ON,
    },
    timeouts: { type: 'object', description: 'Timeouts of each try and of the whole request.', properties: timeoutsProps, default: {} },
    circuitBreaker: { type: 'object', description: 'The per-target circuit breaker.', properties: breakerProps, default: {} },
    responseStore: {
      type: 'object',
      description:
        "The sidecar's local store of the Responses API answers this route served, so that previous_response_id works across a failover to another target or provider (README, \"Responses API\").",
      properties: responseStoreProps,
      default: {},
    },
    commit: commitNode,
    hedge: {
      type: 'object',
      description: 'Hedged requests (off unless set): a try slow to produce content is raced by the same request on the next target; the first to commit wins and the others are aborted (README, "Hedged requests").',
      properties: hedgeProps,
      required: ['after'],
      rules: hedgeRules,
    },
    retryBudget: {
      type: 'object',
      description: 'The share of the route\'s requests that retries and fallbacks may add in this pod, so a degraded fleet of providers does not turn into a retry storm (README, "Retry budget"). On by default; the defaults never bind in normal operation.',
      properties: retryBudgetProps,
      default: {},
      rules: retryBudgetRules,
    },
    balancing: {
      type: 'string',
      description: 'How the first target is picked among the healthy ones of a priority: weighted (smooth weighted round robin) or least-latency (power of two choices by weight, the lower average latency wins; outliers ejected).',
      enum: BALANCING,
      default: 'weighted',
    },
    latency: {
      type: 'object',
      description: 'balancing: least-latency: the latency average and the outlier ejection.',
      properties: latencyProps,
      default: {},
      rules: [
        {
          cel: '!has(self.outlierRatio) || self.outlierRatio == 0 || self.outlierRatio >= 2',
          message: 'latency.outlierRatio must be 0 (no ejection) or at least 2',
          check: (l) => l.outlierRatio === undefined || l.outlierRatio === 0 || l.outlierRatio >= 2,
        },
      ],
    },
    rateLimitAware: { type: 'object', description: "Rate-limit-aware picking from the providers' rate-limit headers.", properties: rateLimitAwareProps, default: {} },
    affinity: {
      type: 'object',
      description: "Prompt-cache affinity: one session's requests go to the same healthy target of a priority (rendezvous hashing), so the provider's prompt cache stays warm. Off when absent.",
      properties: affinityProps,
      required: ['key'],
      rules: [
        {
          cel: "!has(self.header) || self.key == 'header'",
          message: 'affinity.header is only for key: header',
          check: (a) => a.header === undefined || a.key === 'header',
        },
      ],
    },
  } satisfies Record<string, SchemaNode>;
}

/** A request parameter's name, as the provider's API spells it. */
const PARAM_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

const paramsProps: Props<ParamsSpec> = {
  drop: {
    type: 'array',
    description: 'Parameter names to take out of the request (temperature, top_p, top_k, ...).',
    maxItems: 32,
    items: { type: 'string', pattern: PARAM_NAME, maxLength: 64 },
  },
  set: {
    type: 'object',
    description: 'Parameter names and the JSON values to send, over what the client sent.',
    maxProperties: 32,
    additionalProperties: { type: 'json' },
  },
};

// No CEL: the API server leaves a map of free-form values out of CEL's declarations, so no rule
// can see params.set (tried: on the map itself, "failed to construct type information"; on
// params, "undefined field 'set'").
const paramsRules: Rule[] = [
  {
    cel: null,
    message: 'params.set: names must be parameter names (letters, digits and _)',
    check: (p: ParamsSpec) => Object.keys(p.set ?? {}).every((k) => new RegExp(PARAM_NAME).test(k)),
  },
];

/** Target fields shared by the CRD and the config file. */
function targetCommonProps() {
  return {
    name: { type: 'string', description: 'Unique within the route.', pattern: NAME_PATTERN, maxLength: 63 },
    provider: { type: 'string', description: 'The provider API this target speaks.', enum: PROVIDERS },
    model: { type: 'string', description: "The provider's model (Azure: the deployment).", minLength: 1, maxLength: 256 },
    baseURL: {
      type: 'string',
      description:
        'The API base URL. Required for openai-compatible and azure-openai. vertex: the endpoint to send to instead of https://{location}-aiplatform.googleapis.com (e.g. a Private Service Connect endpoint); the /v1/projects/… path is added.',
      pattern: '^https?://[^\\s]+$',
      maxLength: 2048,
    },
    apiVersion: { type: 'string', description: 'azure-openai only: the api-version.', minLength: 1, maxLength: 64 },
    priority: { type: 'integer', description: 'Lower is tried first.', minimum: 0, maximum: 1000, default: 0 },
    weight: { type: 'integer', description: 'Share of traffic within one priority; 0 is a standby.', minimum: 0, maximum: 10000, default: 1 },
    params: {
      type: 'object',
      description:
        "Request shaping for this target, applied to the provider's own request body after translation: parameters to drop (e.g. temperature for models that refuse it) and parameters to set over the client's.",
      properties: paramsProps,
      rules: paramsRules,
    },
    servesResponses: {
      type: 'boolean',
      description:
        "openai-compatible only: the server serves OpenAI's Responses API (POST /responses) itself, so /v1/responses requests go to it natively; otherwise they are translated to Chat Completions. openai and azure-openai targets always serve it.",
    },
    maxTokens: {
      type: 'integer',
      description: "The max_tokens sent when the client sets none (anthropic targets, where it is required). Default: the model's documented output limit (README).",
      minimum: 1,
      maximum: 1_000_000,
    },
    region: {
      type: 'string',
      description: 'bedrock only (required): the AWS region of the model, e.g. us-east-1. Requests are signed for it.',
      pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$',
      maxLength: 32,
    },
    endpoint: {
      type: 'string',
      description:
        'bedrock only: a VPC interface (PrivateLink) endpoint to send to instead of https://bedrock-runtime.<region>.amazonaws.com. Requests are still signed for the regional host.',
      pattern: '^https?://[^\\s/]+/?$',
      maxLength: 2048,
    },
    project: {
      type: 'string',
      description: 'vertex only (required): the Google Cloud project id the model is served in.',
      pattern: '^[a-z][-a-z0-9]{4,28}[a-z0-9]$',
      maxLength: 30,
    },
    location: {
      type: 'string',
      description: 'vertex only (required): the Vertex AI location, e.g. us-east5 or europe-west1, or global (host aiplatform.googleapis.com).',
      pattern: '^(global|[a-z]+-[a-z]+[0-9]+)$',
      maxLength: 32,
    },
  } satisfies Record<string, SchemaNode>;
}

const targetRules: Rule[] = [
  {
    cel: "has(self.baseURL) || (self.provider != 'openai-compatible' && self.provider != 'azure-openai')",
    message: 'baseURL is required for openai-compatible and azure-openai targets',
    check: (t) => t.baseURL !== undefined || (t.provider !== 'openai-compatible' && t.provider !== 'azure-openai'),
  },
  {
    cel: "!has(self.servesResponses) || self.provider == 'openai-compatible'",
    message: 'servesResponses is only for openai-compatible targets (openai and azure-openai always serve the Responses API)',
    check: (t) => t.servesResponses === undefined || t.provider === 'openai-compatible',
  },
  {
    cel: "!has(self.apiVersion) || self.provider == 'azure-openai'",
    message: 'apiVersion is only for azure-openai targets',
    check: (t) => t.apiVersion === undefined || t.provider === 'azure-openai',
  },
  {
    cel: "has(self.region) == (self.provider == 'bedrock')",
    message: 'region is required for bedrock targets and only for them',
    check: (t) => (t.region !== undefined) === (t.provider === 'bedrock'),
  },
  {
    cel: "!has(self.endpoint) || self.provider == 'bedrock'",
    message: 'endpoint is only for bedrock targets',
    check: (t) => t.endpoint === undefined || t.provider === 'bedrock',
  },
  {
    cel: "!has(self.baseURL) || self.provider != 'bedrock'",
    message: 'bedrock targets take region (and endpoint for a VPC endpoint), not baseURL',
    check: (t) => t.baseURL === undefined || t.provider !== 'bedrock',
  },
  {
    cel: "has(self.project) == (self.provider == 'vertex')",
    message: 'project is required for vertex targets and only for them',
    check: (t) => (t.project !== undefined) === (t.provider === 'vertex'),
  },
  {
    cel: "has(self.location) == (self.provider == 'vertex')",
    message: 'location is required for vertex targets and only for them',
    check: (t) => (t.location !== undefined) === (t.provider === 'vertex'),
  },
];

const uniqueTargetNames: Rule = {
  cel: 'self.targets.all(t, self.targets.exists_one(u, u.name == t.name))',
  message: 'target names must be unique within a route',
  check: (r) => !Array.isArray(r.targets) || new Set(r.targets.map((t: { name: string }) => t.name)).size === r.targets.length,
};

const secretKeyRefProps: Props<SecretKeyRef> = {
  name: { type: 'string', description: 'A Secret in the same namespace.', minLength: 1, maxLength: 253 },
  key: { type: 'string', description: 'The key in that Secret.', pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 },
};

const llmRouteTargetProps: Props<LLMRouteTarget> = {
  ...targetCommonProps(),
  apiKeySecretRef: {
    type: 'object',
    description:
      "The Secret key that holds this target's API key. Optional for openai-compatible, and for bedrock, where no Secret means the pod's AWS identity (IRSA, EKS Pod Identity, instance role); a bedrock Secret value is either a Bedrock API key or JSON {\"accessKeyId\",\"secretAccessKey\",\"sessionToken\"}. Optional for vertex too: a vertex Secret value is a service-account key file (JSON, type service_account); no Secret means the pod's Google identity (GKE Workload Identity, the metadata server).",
    properties: secretKeyRefProps,
    required: ['name', 'key'],
  },
};

export const llmRouteTargetSchema: SchemaNode = {
  type: 'object',
  properties: llmRouteTargetProps,
  required: ['name', 'provider', 'model'],
  rules: [
    ...targetRules,
    {
      cel: `has(self.apiKeySecretRef) || self.provider in [${KEYLESS_PROVIDERS.map((p) => `'${p}'`).join(', ')}]`,
      message: `apiKeySecretRef is required except for ${KEYLESS_PROVIDERS.join(' and ')} targets`,
      check: (t) => t.apiKeySecretRef !== undefined || KEYLESS_PROVIDERS.includes(t.provider),
    },
    {
      // The rendered Secret holds every route's keys: naming it would lend one route's key to another.
      cel: `!has(self.apiKeySecretRef) || self.apiKeySecretRef.name != '${CREDENTIALS_SECRET_NAME}'`,
      message: `apiKeySecretRef may not name ${CREDENTIALS_SECRET_NAME}: the operator renders it, it is not a source`,
      check: (t) => t.apiKeySecretRef?.name !== CREDENTIALS_SECRET_NAME,
    },
  ],
};

const llmRouteSpecProps: Props<LLMRouteSpec> = {
  ...policyProps(),
  targets: {
    type: 'array',
    description: 'The fallback chain.',
    minItems: 1,
    maxItems: MAX_TARGETS,
    items: llmRouteTargetSchema,
  },
};

/** LLMRoute.spec. */
export const llmRouteSpecSchema: SchemaNode = {
  type: 'object',
  description: 'A fallback chain of LLM targets with its retry, timeout and circuit-breaker policy.',
  properties: llmRouteSpecProps,
  required: ['targets'],
  rules: [uniqueTargetNames, commitWithinTotal],
};

const apiKeySourceProps: Props<ApiKeySource> = {
  file: { type: 'string', description: "A file holding the key; relative paths start at the config file's folder.", minLength: 1 },
  env: { type: 'string', description: 'An environment variable holding the key.', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  value: { type: 'string', description: 'The key itself (local tests only).', minLength: 1 },
};

const configTargetProps: Props<ConfigTarget> = {
  ...targetCommonProps(),
  apiKey: { type: 'object', description: "Where the target's API key is read.", properties: apiKeySourceProps, oneOf: ['file', 'env', 'value'] },
};

const configRouteProps: Props<ConfigRoute> = {
  name: { type: 'string', description: 'The model name apps send.', minLength: 1, maxLength: 256 },
  ...policyProps(),
  targets: {
    type: 'array',
    minItems: 1,
    maxItems: MAX_TARGETS,
    items: { type: 'object', properties: configTargetProps, required: ['name', 'provider', 'model'], rules: targetRules },
  },
};

const listenProps = (host: string, port: number): Props<ListenSpec> => ({
  host: { type: 'string', minLength: 1, default: host },
  port: { type: 'integer', minimum: 0, maximum: 65535, default: port },
});

const configFileProps: Props<ConfigFile> = {
  version: {
    type: 'integer',
    description: `The file's format version. The operator writes ${CONFIG_FORMAT_VERSION}; a sidecar refuses a newer one than it reads. Absent: 1.`,
    minimum: 1,
  },
  listen: { type: 'object', description: 'The API address.', properties: listenProps(DEFAULT_LISTEN.host, DEFAULT_LISTEN.port), default: {} },
  admin: { type: 'object', description: 'The admin address (/metrics, /healthz, /readyz).', properties: listenProps(DEFAULT_ADMIN.host, DEFAULT_ADMIN.port), default: {} },
  logLevel: { type: 'string', enum: LOG_LEVELS },
  routes: {
    type: 'array',
    description: 'The routes; apps pick one with the request model.',
    items: { type: 'object', properties: configRouteProps, required: ['name', 'targets'], rules: [uniqueTargetNames, commitWithinTotal] },
    rules: [
      {
        cel: 'self.all(r, self.exists_one(s, s.name == r.name))',
        message: 'route names must be unique',
        check: (rs) => new Set(rs.map((r: { name: string }) => r.name)).size === rs.length,
      },
    ],
  },
};

/** The sidecar's config.yaml. */
export const configFileSchema: SchemaNode = {
  type: 'object',
  properties: configFileProps,
  required: ['routes'],
};

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = new RegExp(DURATION_PATTERN);
const DURATION_PART_RE = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

/** Milliseconds of a duration string; NaN when it does not match DURATION_PATTERN. */
export function durationMs(text: string): number {
  if (typeof text !== 'string' || !DURATION_RE.test(text)) return Number.NaN;
  let total = 0;
  for (const m of text.matchAll(DURATION_PART_RE)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}
