/**
 * Every list of names in the contract, typed out once: the providers, the
 * error classes and which of them `fallbackOn` may name, the log levels, the
 * sidecar's default ports and the config file's format version. The types
 * are derived from the lists, so schema.ts (the CRD and the config
 * validation), types.ts, the sidecar and the operator cannot disagree.
 */

export const PROVIDERS = ['openai', 'azure-openai', 'anthropic', 'openai-compatible', 'gemini', 'bedrock', 'vertex'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** The classes an upstream failure falls into (SPEC section 5); also the `outcome` label of llmroute_upstream_attempts_total. */
export const ERROR_CLASSES = ['rate-limit', 'server-error', 'timeout', 'connection-error', 'auth', 'not-found', 'context-window', 'bad-request'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/**
 * The classes `fallbackOn` may name. `auth` and `not-found` (the target is misconfigured: a wrong
 * baseURL, a renamed deployment, a retired model) always fall back and open the target's circuit;
 * `bad-request` never does.
 */
export const FALLBACK_ON = ['rate-limit', 'server-error', 'timeout', 'connection-error', 'auth', 'not-found', 'context-window'] as const;
export type FallbackOn = (typeof FALLBACK_ON)[number];
export const DEFAULT_FALLBACK_ON: readonly FallbackOn[] = ['rate-limit', 'server-error', 'timeout', 'connection-error'];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The sidecar's listen addresses when the config file names none. */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 4000 } as const;
export const DEFAULT_ADMIN = { host: '0.0.0.0', port: 4001 } as const;

/**
 * The config file's format. The operator writes `version: CONFIG_FORMAT_VERSION`;
 * a sidecar refuses a file whose version is newer than the one it reads (a
 * config from a newer operator), instead of misreading it. A file without
 * `version` (written by hand) is read as version 1. Raise it when a change
 * to the file would be misread by an older sidecar.
 */
export const CONFIG_FORMAT_VERSION = 1;

/** Used when a target names no baseURL (openai-compatible and azure-openai must name one). */
export const DEFAULT_BASE_URLS: Readonly<Partial<Record<Provider, string>>> = Object.freeze({
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1',
  gemini: 'https://generativelanguage.googleapis.com',
});

/**
 * Providers whose targets may run without an apiKeySecretRef: openai-compatible (servers of the
 * user's own), bedrock (credentials from the pod's workload identity: IRSA, EKS Pod Identity, an
 * instance role), vertex (the pod's Google identity: GKE Workload Identity through the metadata server).
 */
export const KEYLESS_PROVIDERS: readonly Provider[] = ['openai-compatible', 'bedrock', 'vertex'];

/** Bedrock's runtime host in a region: where requests go (and what they are signed for) when the target names no endpoint. */
export function bedrockRuntimeHost(region: string): string {
  return `bedrock-runtime.${region}.amazonaws.com`;
}

/** Vertex AI's host for a location: `{location}-aiplatform.googleapis.com`, or `aiplatform.googleapis.com` for `global`. */
export function vertexHost(location: string): string {
  return location === 'global' ? 'aiplatform.googleapis.com' : `${location}-aiplatform.googleapis.com`;
}

/**
 * The label a Secret must carry for the operator to read it (an
 * apiKeySecretRef may name only such Secrets): the operator lists and
 * watches Secrets with this label selector, so the API server never sends
 * it any other.
 */
export const CREDENTIALS_LABEL = 'llmroute.dev/credentials';
export const CREDENTIALS_LABEL_VALUE = 'true';

/** The Secret the operator renders in each namespace: its output, never a source (an apiKeySecretRef may not name it). */
export const CREDENTIALS_SECRET_NAME = 'llmroute-credentials';

/**
 * Where a target's key may be sent, by provider: the hosts its baseURL (or
 * the provider's default one) may name when the target has an
 * apiKeySecretRef. `host` (any port), `host:port`, `*.domain` (any host
 * under domain, at any depth, not domain itself), `[v6]`, `*` (any host).
 * The defaults: the providers' public endpoints; openai-compatible, whose
 * servers are the user's own, none (a target without a key may go
 * anywhere). The operator's --allowed-base-url-hosts and the chart's
 * keyDestinations.allowedHosts replace them.
 */
export const DEFAULT_KEY_DESTINATIONS: Readonly<Record<Provider, readonly string[]>> = Object.freeze({
  openai: ['api.openai.com'],
  anthropic: ['api.anthropic.com'],
  'azure-openai': ['*.openai.azure.com', '*.cognitiveservices.azure.com'],
  'openai-compatible': [],
  gemini: ['generativelanguage.googleapis.com'],
  // The regional runtime hosts and PrivateLink endpoints (vpce-….bedrock-runtime.<region>.vpce.amazonaws.com).
  bedrock: ['*.amazonaws.com'],
  // aiplatform.googleapis.com (global) and the regional {location}-aiplatform.googleapis.com hosts.
  vertex: ['aiplatform.googleapis.com', '*.googleapis.com'],
});
