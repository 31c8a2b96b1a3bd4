/**
 * Fake LLM providers for integration tests, chaos tests and benchmarks: a
 * local HTTP server that speaks OpenAI's (and Azure OpenAI's) or Anthropic's
 * wire format, and misbehaves on purpose when a test asks it to. The OpenAI
 * flavor serves the Responses API too (POST /v1/responses, and the stored
 * responses it answered: GET and DELETE /v1/responses/{id}, GET
 * …/input_items, POST …/cancel; `previous_response_id` resolves against them).
 *
 *   const fake = await startFakeProvider({ flavor: 'openai', name: 'primary' });
 *   fake.script({ kind: 'status', status: 503 }, { kind: 'cut', afterChunks: 2 });
 *   // ... point a client at fake.url; the first request gets a 503, the
 *   // second a stream cut after two content chunks, then the default (ok).
 *   await fake.close();
 *
 * Which behaviour a request gets: the next one in the script queue; when the
 * queue is empty, the `behaviour` (a fixed one or a function of the request
 * and its number); when there is none, `{ kind: 'ok' }`. Requests that fail
 * before that (unknown path, wrong key, malformed or invalid body) consume
 * nothing.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  estimateTokens,
  exampleArguments,
  replyPieces,
  splitArgs,
  unixNow,
  type ErrorSpec,
  type ReplyContext,
  type StreamFrames,
  type ToolCallReply,
  type WireError,
} from './wire-common.ts';
import * as oa from './wire-openai.ts';
import * as an from './wire-anthropic.ts';
import * as rs from './wire-openai-responses.ts';

// ---------------------------------------------------------------- types

export type Flavor = 'openai' | 'anthropic';
/** Which wire format a request was served in: OpenAI flavor serves both `openai` and `azure` paths. */
export type Dialect = 'openai' | 'azure' | 'anthropic';
export type Endpoint =
  | 'chat'
  | 'embeddings'
  | 'completions'
  | 'responses'
  | 'response-get'
  | 'response-delete'
  | 'response-input-items'
  | 'response-cancel'
  | 'messages'
  | 'count_tokens'
  | 'models'
  | 'unknown';

/** The tool call a reply makes. Unset fields come from the request's first tool (or the one named). */
export interface ToolCallSpec {
  name?: string;
  /** An object (serialised) or a raw JSON string. Default: a plausible value per property of the tool's schema. */
  arguments?: Record<string, unknown> | string;
  id?: string;
}

/** Fields every behaviour may carry. */
export interface BehaviourCommon {
  /** Delay before anything is sent (after the body is read). */
  thinkMs?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/** How a successful reply looks; defaults come from the fake's options. */
export interface ReplyOverrides extends BehaviourCommon {
  text?: string;
  /** Content chunks of a stream; also the completion token count. */
  chunks?: number;
  /** Delay between content chunks (a non-stream reply waits the same total). */
  chunkDelayMs?: number;
  /** Answer with a tool call when the request has tools. With `text` too, the text comes first. */
  toolCall?: boolean | ToolCallSpec;
  /** finish_reason (OpenAI) / stop_reason (Anthropic); default the natural one. */
  finishReason?: string;
  /** The model in the reply; default the request's. */
  model?: string;
  /**
   * OpenAI flavor, Chat Completions: the reasoning the reply carries before its content, as
   * `reasoning_content` (what DeepSeek, vLLM and other OpenAI-compatible reasoning servers send):
   * on the message, or streamed as one delta ahead of the first content delta.
   */
  reasoning?: string;
}

/** Fields of a provider error body; unset ones take the provider's real values for the status. */
export interface ErrorFields {
  message?: string;
  /** OpenAI `error.type`; Anthropic `error.type`. */
  type?: string;
  code?: string | number | null;
  param?: string | null;
}

/** `Retry-After` as seconds (number), an HTTP-date (Date) or a raw header value (string). */
export type RetryAfter = number | Date | string;

export interface OkBehaviour extends ReplyOverrides {
  kind: 'ok';
}
/** Any status with the provider's real error body for it. */
export interface StatusBehaviour extends BehaviourCommon, ErrorFields {
  kind: 'status';
  status: number;
  /** Replaces the body entirely (an object is serialised as JSON). */
  body?: string | Record<string, unknown>;
  /** Send a Cloudflare-style HTML page instead of JSON (as OpenAI's edge does on 502/503/504). */
  html?: boolean;
  retryAfter?: RetryAfter;
  /** OpenAI's `retry-after-ms`. */
  retryAfterMs?: number;
}
/** 429 with the provider's rate-limit body. */
export interface RateLimitBehaviour extends BehaviourCommon, ErrorFields {
  kind: 'rate-limit';
  retryAfter?: RetryAfter;
  retryAfterMs?: number;
}
/** The provider's "prompt too long" error (OpenAI 400 context_length_exceeded; Anthropic 400 "prompt is too long"). */
export interface ContextWindowBehaviour extends BehaviourCommon {
  kind: 'context-window';
}
/** Quota exhausted (OpenAI 429 insufficient_quota; Anthropic 400 "credit balance is too low"). */
export interface QuotaBehaviour extends BehaviourCommon {
  kind: 'quota';
}
/** Read the request, never answer. */
export interface HangBehaviour {
  kind: 'hang';
}
/** Drop the connection before any header: TCP RST by default (ECONNRESET), a plain close (FIN) with `rst: false`. */
export interface ResetBehaviour extends BehaviourCommon {
  kind: 'reset';
  rst?: boolean;
}
/** Send 200 and the headers (SSE for a stream), then nothing. */
export interface HeadersThenStallBehaviour extends BehaviourCommon {
  kind: 'headers-then-stall';
}
/** Stream: close the socket after K content chunks (no finish, no [DONE]). Non-stream: after half the body. */
export interface CutBehaviour extends ReplyOverrides {
  kind: 'cut';
  afterChunks: number;
  /** RST instead of FIN. */
  rst?: boolean;
}
/** Stream: stop sending after K content chunks, keep the socket open. Non-stream: after half the body. */
export interface StallBehaviour extends ReplyOverrides {
  kind: 'stall';
  afterChunks: number;
}
/** The whole response body a few bytes at a time. */
export interface DribbleBehaviour extends ReplyOverrides {
  kind: 'dribble';
  /** Default 16. */
  bytesPerWrite?: number;
  /** Default 5. */
  delayMs?: number;
}
/** A non-stream JSON body cut short: with a matching content-length (default), or the full one then a close (`earlyClose`). */
export interface TruncatedJsonBehaviour extends ReplyOverrides {
  kind: 'truncated-json';
  /** Bytes kept; default half. */
  keepBytes?: number;
  earlyClose?: boolean;
}
/** HTTP 200 whose body is the provider's error body for `status` (default 500). */
export interface ErrorBodyBehaviour extends BehaviourCommon, ErrorFields {
  kind: 'error-body';
  status?: number;
}
/** Raw non-HTTP bytes on the socket, then close. */
export interface GarbageBehaviour extends BehaviourCommon {
  kind: 'garbage';
  data?: string | Uint8Array;
}
/** A normal reply with every SSE write split in two at its middle byte, the halves sent apart (separate TCP packets). */
export interface SplitSseBehaviour extends ReplyOverrides {
  kind: 'split-sse';
  /** Pause between the halves; default 10. */
  splitDelayMs?: number;
}
/** Stream: after K content chunks, the provider's in-stream error event, then a clean end. Non-stream: the error as a status (OpenAI 500, Anthropic 529). */
export interface StreamErrorBehaviour extends ReplyOverrides, ErrorFields {
  kind: 'stream-error';
  afterChunks: number;
}

/**
 * A reasoning model thinking before its first content. Stream: SSE headers at once, then a
 * keep-alive every `everyMs` (an SSE comment `: ping` as OpenAI-compatible servers send; Anthropic:
 * its `ping` event) until `replyAfterMs`, then the whole reply. Non-stream: the reply after `replyAfterMs`.
 */
export interface PingsBehaviour extends ReplyOverrides {
  kind: 'pings';
  everyMs: number;
  replyAfterMs: number;
}

export type Behaviour =
  | OkBehaviour
  | PingsBehaviour
  | StatusBehaviour
  | RateLimitBehaviour
  | ContextWindowBehaviour
  | QuotaBehaviour
  | HangBehaviour
  | ResetBehaviour
  | HeadersThenStallBehaviour
  | CutBehaviour
  | StallBehaviour
  | DribbleBehaviour
  | TruncatedJsonBehaviour
  | ErrorBodyBehaviour
  | GarbageBehaviour
  | SplitSseBehaviour
  | StreamErrorBehaviour;

export type BehaviourKind = Behaviour['kind'];

export const BEHAVIOUR_KINDS: readonly BehaviourKind[] = [
  'ok',
  'status',
  'rate-limit',
  'context-window',
  'quota',
  'hang',
  'reset',
  'headers-then-stall',
  'cut',
  'stall',
  'dribble',
  'truncated-json',
  'error-body',
  'garbage',
  'split-sse',
  'stream-error',
  'pings',
];

/**
 * Picks the behaviour for a request. `n` counts requests that reached
 * behaviour selection since the last reset, from 0. Returning undefined means ok.
 */
export type BehaviourFn = (req: RecordedRequest, n: number) => Behaviour | undefined;

export interface RecordedRequest {
  /** Index among all requests since the last reset, from 0. */
  n: number;
  method: string;
  /** The request target as sent (path and query). */
  path: string;
  pathname: string;
  query: Record<string, string>;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The parsed JSON body (typed loosely for tests' convenience); undefined when empty or not JSON. */
  body: any;
  rawBody: string;
  /** Date.now() when the body had been read. */
  time: number;
  endpoint: Endpoint;
  dialect: Dialect;
  /** Azure deployment from the path. */
  deployment: string | undefined;
  stream: boolean;
  /** What was done; undefined when the request was refused before selection. */
  behaviour: Behaviour | undefined;
  /** The behaviour's kind, or `not-found`, `auth-failed`, `bad-json`, `invalid`, `param-refused`, `model-not-found`, `models`. */
  outcome: string;
}

export interface FakeCounts {
  /** Requests since the last reset. */
  requests: number;
  /** Requests being answered now. */
  inFlight: number;
  /** TCP connections accepted since the last reset. */
  connections: number;
  /** Responses the client closed before they were sent whole (a proxy aborting a try), since the last reset. */
  abandoned: number;
  byOutcome: Record<string, number>;
  byEndpoint: Record<string, number>;
}

export interface FakeProviderOptions {
  flavor: Flavor;
  /** Shows in the default text and in the `x-fake-provider` header. Default: the flavor. */
  name?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default `Hello from <name>`. */
  text?: string;
  /** Default 4. */
  chunks?: number;
  /** Default 0. */
  chunkDelayMs?: number;
  /** Default 0; applies to replies (ok and the stream faults), not to error statuses. */
  thinkMs?: number;
  /** Default tool-call setting of replies. */
  toolCall?: boolean | ToolCallSpec;
  /** The model in every reply; default the request's (Azure: the deployment when the body has none). */
  model?: string;
  /** What GET /v1/models lists. */
  models?: string[];
  /** When set, the provider's auth header must carry it (OpenAI `authorization: Bearer`, Azure `api-key`, Anthropic `x-api-key` and `anthropic-version`). */
  expectKey?: string;
  script?: Behaviour[];
  behaviour?: Behaviour | BehaviourFn;
  /** Embedding size when the request gives no `dimensions`. Default 1536. */
  embeddingDimensions?: number;
  /** Reject bodies the real provider would (missing model, messages, max_tokens...). Default true. */
  validate?: boolean;
  /** Requests kept in `requests` (oldest dropped). Default 10000; 0 keeps none. */
  maxRecords?: number;
  /**
   * The models (Azure: the deployments) this provider has. When set, a request for any other gets
   * the real provider's 404: OpenAI `model_not_found`, Azure `DeploymentNotFound`, Anthropic
   * `not_found_error` (a retired model, a renamed deployment). Default: every model exists.
   */
  knownModels?: string[];
  /**
   * Parameters the model refuses, as newer Claude models refuse temperature, top_p and top_k and
   * OpenAI's reasoning models temperature: a request with one at its top level gets the real 400
   * (Anthropic "`temperature` is deprecated for this model."; OpenAI "Unsupported parameter:
   * 'temperature' is not supported with this model.", code unsupported_parameter).
   */
  refusesParams?: string[];
  /**
   * Enforce a real rate limit, as the provider does: at most `requests` requests and `tokens`
   * prompt tokens per fixed window of `windowMs` (from the window's first request). Every answer
   * carries the provider's rate-limit headers (OpenAI and Azure `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`
   * with Go-duration resets; Anthropic `anthropic-ratelimit-{requests,tokens,input-tokens}-{limit,remaining,reset}`
   * with RFC 3339 resets); a request over the limit gets the provider's 429 with `retry-after`
   * (outcome `rate-limited`) and consumes no behaviour.
   */
  rateLimit?: { requests?: number; tokens?: number; windowMs: number; /** Send retry-after with the 429 (default true; OpenAI-compatible servers often do not). */ retryAfter?: boolean };
  /**
   * OpenAI flavor: automatic prompt caching as OpenAI does it: a prompt whose first messages
   * (at least `minTokens`, default 1024, as OpenAI's minimum) were sent before reports them as
   * `usage.prompt_tokens_details.cached_tokens` (Responses `input_tokens_details.cached_tokens`).
   */
  promptCache?: boolean | { minTokens?: number };
  /**
   * Negotiate on Accept, as some OpenAI-compatible servers do: a stream
   * request whose Accept does not name text/event-stream is answered with
   * the whole JSON body. Default false.
   */
  negotiateAccept?: boolean;
  /**
   * `background: true` Responses (POST answers at once, `queued`): 'per-get' (default) moves one
   * step (queued → in_progress → completed) at each GET before answering it, so the first GET
   * sees in_progress and the second completed; 'manual' moves only on advanceBackground().
   */
  backgroundProgress?: 'per-get' | 'manual';
}

export interface FakeProvider {
  readonly flavor: Flavor;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** `http://127.0.0.1:PORT/v1`: a target's baseURL. */
  readonly url: string;
  /** Recorded requests, oldest first (a live array). */
  readonly requests: RecordedRequest[];
  /** Live counters. */
  readonly counts: FakeCounts;
  /** Appends behaviours to the script queue. */
  script(...behaviours: Behaviour[]): void;
  /** Replaces the script queue. */
  setScript(behaviours: Behaviour[]): void;
  /** Behaviours left in the queue. */
  readonly pending: number;
  /** Sets the behaviour used once the script is empty (undefined: ok). */
  setBehaviour(behaviour: Behaviour | BehaviourFn | undefined): void;
  /** Forgets requests and counters; script and behaviour go back to the options'. */
  reset(): void;
  /** Resolves once at least `count` requests have been recorded since the last reset. */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Stops listening, destroys every open socket (hung ones too), cancels timers. */
  close(): Promise<void>;
  /** Whether the fake holds a stored response (GET /v1/responses/{id} would find it). */
  hasResponse(id: string): boolean;
  /** The status of a held response; undefined when not held. */
  responseStatus(id: string): string | undefined;
  /** A background response moves on: to `to`, or one step (queued → in_progress → completed). */
  advanceBackground(id: string, to?: 'in_progress' | 'completed'): void;
  /** How background responses move on (see FakeProviderOptions.backgroundProgress); reset() restores the option's. */
  setBackgroundProgress(mode: 'per-get' | 'manual'): void;
}

/**
 * A behaviour function that answers after a latency drawn from a distribution: each entry a share
 * of the requests (the shares summing to at most 1; the rest get `ms` 0) and the think time they
 * get before anything is sent, e.g. a 5 % slow tail: [{ share: 0.95, ms: 40 }, { share: 0.05, ms: 3000 }].
 * `reply` shapes the ok reply (chunks, chunk delay...).
 */
export function latencyDistribution(dist: ReadonlyArray<{ share: number; ms: number }>, rng: () => number = Math.random, reply: Omit<ReplyOverrides, 'thinkMs'> = {}): BehaviourFn {
  return () => {
    let x = rng();
    for (const d of dist) {
      if (x < d.share) return { kind: 'ok', ...reply, thinkMs: d.ms };
      x -= d.share;
    }
    return { kind: 'ok', ...reply };
  };
}

/** A behaviour function that fails a share of requests at random. */
export function randomFailures(rate: number, failure: Behaviour, rng: () => number = Math.random): BehaviourFn {
  return () => (rng() < rate ? failure : undefined);
}

// ---------------------------------------------------------------- implementation

const DEFAULT_GARBAGE = 'SSH-2.0-OpenSSH_9.6\r\n\u0000\u0001\u0002 this is not HTTP \u00ff\r\n\r\n';

type Timer = ReturnType<typeof setTimeout>;

/** One response in progress: its timers, and whether it is over (client gone or fake closed). */
class Job {
  dead = false;
  private timers = new Set<Timer>();
  private wakers = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    if (this.dead || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.wakers.delete(resolve);
        resolve();
      }, ms);
      this.timers.add(t);
      this.wakers.add(resolve);
    });
  }

  kill(): void {
    if (this.dead) return;
    this.dead = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const w of wakers) w();
  }
}

interface Route {
  endpoint: Endpoint;
  dialect: Dialect;
  deployment: string | undefined;
  /** Azure deployment paths need `api-version`. */
  needsApiVersion: boolean;
  /** Azure's /openai/v1 paths take `api-key` or a bearer key. */
  bearerToo: boolean;
  /** The stored response a /v1/responses/{id} path names. */
  responseId?: string | undefined;
}

/** /v1/responses/{id}, …/input_items and …/cancel (also under Azure's /openai/v1). */
const STORED_RESPONSE_PATH = /^(\/openai)?(?:\/v1)?\/responses\/([^/]+)(\/input_items|\/cancel)?$/;

const AZURE_PATH = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings|completions)$/;

function routeOf(flavor: Flavor, method: string, pathname: string): Route | undefined {
  const r = (endpoint: Endpoint, dialect: Dialect, deployment?: string, needsApiVersion = false, bearerToo = false): Route => ({
    endpoint,
    dialect,
    deployment,
    needsApiVersion,
    bearerToo,
  });
  if (flavor === 'anthropic') {
    if (method === 'POST' && pathname === '/v1/messages') return r('messages', 'anthropic');
    if (method === 'POST' && pathname === '/v1/messages/count_tokens') return r('count_tokens', 'anthropic');
    if (method === 'GET' && pathname === '/v1/models') return r('models', 'anthropic');
    return undefined;
  }
  if (method === 'POST') {
    switch (pathname) {
      case '/v1/chat/completions':
      case '/chat/completions':
        return r('chat', 'openai');
      case '/v1/embeddings':
      case '/embeddings':
        return r('embeddings', 'openai');
      case '/v1/completions':
      case '/completions':
        return r('completions', 'openai');
      case '/openai/v1/chat/completions':
        return r('chat', 'azure', undefined, false, true);
      case '/openai/v1/embeddings':
        return r('embeddings', 'azure', undefined, false, true);
      case '/v1/responses':
      case '/responses':
        return r('responses', 'openai');
      case '/openai/v1/responses':
        return r('responses', 'azure', undefined, false, true);
      case '/openai/responses':
        // Azure's preview Responses path: the deployment is the body's model.
        return r('responses', 'azure', undefined, true);
    }
    const m = AZURE_PATH.exec(pathname);
    if (m) return r(m[2] === 'embeddings' ? 'embeddings' : m[2] === 'completions' ? 'completions' : 'chat', 'azure', decodeURIComponent(m[1] as string), true);
  }
  if (method === 'GET' && (pathname === '/v1/models' || pathname === '/models')) return r('models', 'openai');
  const stored = STORED_RESPONSE_PATH.exec(pathname);
  if (stored) {
    const [, azurePrefix, id, tail] = stored;
    const endpoint: Endpoint | undefined =
      tail === '/input_items' ? (method === 'GET' ? 'response-input-items' : undefined)
      : tail === '/cancel' ? (method === 'POST' ? 'response-cancel' : undefined)
      : method === 'GET' ? 'response-get'
      : method === 'DELETE' ? 'response-delete'
      : undefined;
    if (endpoint) return { ...r(endpoint, azurePrefix ? 'azure' : 'openai', undefined, false, azurePrefix !== undefined), responseId: decodeURIComponent(id as string) };
  }
  return undefined;
}

function isReply(b: Behaviour): b is OkBehaviour | PingsBehaviour | CutBehaviour | StallBehaviour | DribbleBehaviour | TruncatedJsonBehaviour | SplitSseBehaviour | StreamErrorBehaviour {
  switch (b.kind) {
    case 'ok':
    case 'pings':
    case 'cut':
    case 'stall':
    case 'dribble':
    case 'truncated-json':
    case 'split-sse':
    case 'stream-error':
      return true;
    default:
      return false;
  }
}

/** A duration as OpenAI's x-ratelimit-reset-* headers write it (Go's notation): 20ms, 1.5s, 6m0s. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Number(((ms - m * 60_000) / 1000).toFixed(3))}s`;
}

function retryAfterValue(v: RetryAfter): string {
  if (typeof v === 'number') return String(v);
  if (v instanceof Date) return v.toUTCString();
  return v;
}

function retryAfterSeconds(v: RetryAfter | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (v instanceof Date) return Math.max(0, Math.ceil((v.getTime() - Date.now()) / 1000));
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function destroySocket(socket: Socket, rst: boolean): void {
  if (socket.destroyed) return;
  if (rst && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

function lowerHeaders(h: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) {
    const v = h[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function parseQuery(q: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (q === '') return out;
  for (const [k, v] of new URLSearchParams(q)) out[k] = v;
  return out;
}

const ORG_ID = randomUUID();

/** Whether an Accept header takes an event stream (a missing one takes anything but is read as JSON by negotiating servers). */
function acceptsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/event-stream\b/i.test(accept);
}

/** Anthropic: the thought a reply starts with when the request asked for thinking. */
function thinkingReply(body: Record<string, unknown>): string | undefined {
  const type = (body['thinking'] as { type?: unknown } | undefined)?.type;
  return type === 'enabled' || type === 'adaptive' ? 'The user wants an answer; let me think it through.' : undefined;
}

/** Anthropic: with structured outputs (output_config.format), the reply is JSON that fits the schema. */
function structuredReply(body: Record<string, unknown>): string | undefined {
  const format = (body['output_config'] as { format?: { schema?: unknown } } | undefined)?.format;
  return format ? JSON.stringify(exampleArguments(format.schema)) : undefined;
}

class FakeProviderServer implements FakeProvider {
  readonly flavor: Flavor;
  readonly name: string;
  readonly host: string;
  port = 0;
  origin = '';
  url = '';
  readonly requests: RecordedRequest[] = [];
  readonly counts: FakeCounts = { requests: 0, inFlight: 0, connections: 0, abandoned: 0, byOutcome: {}, byEndpoint: {} };

  private readonly opts: FakeProviderOptions;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly jobs = new Set<Job>();
  private readonly responses = new Set<ServerResponse>();
  private queue: Behaviour[];
  private fallback: Behaviour | BehaviourFn | undefined;
  private selections = 0;
  private waiters: { count: number; resolve: (r: RecordedRequest[]) => void; timer: Timer }[] = [];
  private closing: Promise<void> | undefined;
  private readonly maxRecords: number;
  private readonly defaultText: string;
  /** The Responses this fake answered with `store` on: what GET /v1/responses/{id} and previous_response_id find. */
  private readonly stored = new Map<string, { response: Record<string, unknown>; input: Record<string, unknown>[]; background?: { reply: rs.ResponsesReply; status: rs.BackgroundStatus } }>();
  private backgroundProgress: 'per-get' | 'manual';
  private lastModel = '';
  /** Anthropic: the thinking signatures this fake has issued (a thinking block sent back must carry one). */
  private readonly issuedSignatures = new Set<string>();
  /** Anthropic: the cache_control prefixes seen (a repeat is a cache read). */
  private readonly cachedPrefixes = new Set<string>();
  private lastModelJson = '""';
  /** The rateLimit option's current window. */
  private window = { start: 0, requests: 0, tokens: 0 };
  /** The promptCache option: the prompt prefixes (by message) seen. */
  private readonly seenPrompts = new Set<string>();

  constructor(opts: FakeProviderOptions) {
    this.opts = opts;
    this.flavor = opts.flavor;
    this.name = opts.name ?? opts.flavor;
    this.host = opts.host ?? '127.0.0.1';
    this.queue = [...(opts.script ?? [])];
    this.fallback = opts.behaviour;
    this.maxRecords = opts.maxRecords ?? 10000;
    this.defaultText = opts.text ?? `Hello from ${this.name}`;
    this.backgroundProgress = opts.backgroundProgress ?? 'per-get';
    this.server = http.createServer({ noDelay: true, keepAlive: true, requestTimeout: 0 }, (req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (socket: Socket) => {
      this.counts.connections++;
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (_err, socket) => {
      (socket as Socket).destroy();
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('fake provider: no TCP address');
    this.port = addr.port;
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    this.origin = `http://${h}:${this.port}`;
    this.url = `${this.origin}/v1`;
  }

  get pending(): number {
    return this.queue.length;
  }

  script(...behaviours: Behaviour[]): void {
    this.queue.push(...behaviours);
  }

  setScript(behaviours: Behaviour[]): void {
    this.queue = [...behaviours];
  }

  setBehaviour(behaviour: Behaviour | BehaviourFn | undefined): void {
    this.fallback = behaviour;
  }

  reset(): void {
    this.requests.length = 0;
    this.counts.requests = 0;
    this.counts.connections = 0;
    this.counts.abandoned = 0;
    this.counts.byOutcome = {};
    this.counts.byEndpoint = {};
    this.selections = 0;
    this.issuedSignatures.clear();
    this.cachedPrefixes.clear();
    this.seenPrompts.clear();
    this.window = { start: 0, requests: 0, tokens: 0 };
    this.queue = [...(this.opts.script ?? [])];
    this.fallback = this.opts.behaviour;
    this.stored.clear();
    this.backgroundProgress = this.opts.backgroundProgress ?? 'per-get';
  }

  hasResponse(id: string): boolean {
    return this.stored.has(id);
  }

  responseStatus(id: string): string | undefined {
    const s = this.stored.get(id);
    return s ? String(s.response['status']) : undefined;
  }

  advanceBackground(id: string, to?: 'in_progress' | 'completed'): void {
    const s = this.stored.get(id);
    const bg = s?.background;
    if (!s || !bg || bg.status === 'completed' || bg.status === 'cancelled') return;
    bg.status = to ?? (bg.status === 'queued' ? 'in_progress' : 'completed');
    s.response = rs.backgroundObject(bg.reply, bg.status);
  }

  setBackgroundProgress(mode: 'per-get' | 'manual'): void {
    this.backgroundProgress = mode;
  }

  waitForRequests(count: number, timeoutMs = 5000): Promise<RecordedRequest[]> {
    if (this.counts.requests >= count) return Promise.resolve(this.requests);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`fake provider ${this.name}: ${this.counts.requests} of ${count} requests after ${timeoutMs}ms`));
      }, timeoutMs);
      this.waiters.push({ count, resolve, timer });
    });
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    const responses = [...this.responses].filter((r) => !r.closed);
    const responsesClosed = Promise.all(responses.map((r) => new Promise<void>((resolve) => r.once('close', () => resolve()))));
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const job of this.jobs) job.kill();
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters = [];
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    this.closing = Promise.all([serverClosed, responsesClosed]).then(() => undefined);
    return this.closing;
  }

  // ------------------------------------------------------------ request flow

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const job = new Job();
    this.jobs.add(job);
    this.responses.add(res);
    this.counts.inFlight++;
    res.on('error', () => {});
    res.on('close', () => {
      this.counts.inFlight--;
      if (!res.writableFinished && !this.closing) this.counts.abandoned++;
      this.jobs.delete(job);
      this.responses.delete(res);
      job.kill();
    });
    const bufs: Buffer[] = [];
    req.on('data', (b: Buffer) => bufs.push(b));
    req.on('error', () => {});
    req.on('end', () => {
      if (job.dead) return;
      const raw = bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs);
      this.handle(req, res, raw, job).catch(() => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('fake provider: internal error');
        }
      });
    });
  }

  private record(rec: RecordedRequest): void {
    this.counts.requests++;
    this.counts.byEndpoint[rec.endpoint] = (this.counts.byEndpoint[rec.endpoint] ?? 0) + 1;
    if (this.maxRecords > 0) {
      this.requests.push(rec);
      if (this.requests.length > this.maxRecords + Math.ceil(this.maxRecords / 10)) {
        this.requests.splice(0, this.requests.length - this.maxRecords);
      }
    }
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter((w) => this.counts.requests >= w.count);
      if (ready.length > 0) {
        this.waiters = this.waiters.filter((w) => this.counts.requests < w.count);
        for (const w of ready) {
          clearTimeout(w.timer);
          w.resolve(this.requests);
        }
      }
    }
  }

  private outcome(rec: RecordedRequest, outcome: string): void {
    rec.outcome = outcome;
    this.counts.byOutcome[outcome] = (this.counts.byOutcome[outcome] ?? 0) + 1;
  }

  private modelJson(model: string): string {
    if (model !== this.lastModel) {
      this.lastModel = model;
      this.lastModelJson = JSON.stringify(model);
    }
    return this.lastModelJson;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, raw: Buffer, job: Job): Promise<void> {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const pathname = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? {} : parseQuery(target.slice(q + 1));
    const method = req.method ?? 'GET';
    const route = routeOf(this.flavor, method, pathname);
    const headers = lowerHeaders(req.headers);
    const rawBody = raw.length === 0 ? '' : raw.toString('utf8');
    let body: unknown = undefined;
    let badJson = false;
    if (rawBody !== '') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        badJson = true;
      }
    }
    const obj = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    const endpoint: Endpoint = route?.endpoint ?? 'unknown';
    const dialect: Dialect = route?.dialect ?? (this.flavor === 'anthropic' ? 'anthropic' : 'openai');
    const rec: RecordedRequest = {
      n: this.counts.requests,
      method,
      path: target,
      pathname,
      query,
      headers,
      body,
      rawBody,
      time: Date.now(),
      endpoint,
      dialect,
      deployment: route?.deployment,
      stream: (endpoint === 'chat' || endpoint === 'messages' || endpoint === 'completions' || endpoint === 'responses') && obj?.['stream'] === true,
      behaviour: undefined,
      outcome: '',
    };
    this.record(rec);

    if (!route) {
      this.outcome(rec, 'not-found');
      const e = this.flavor === 'anthropic' ? an.notFound() : pathname.startsWith('/openai/') ? oa.azureNotFound() : oa.invalidURL(method, pathname);
      return this.sendError(res, e, dialect);
    }
    if (this.opts.expectKey !== undefined) {
      const e = this.checkAuth(route, headers, this.opts.expectKey);
      if (e) {
        this.outcome(rec, 'auth-failed');
        return this.sendError(res, e, dialect);
      }
    }
    if (route.needsApiVersion && !query['api-version']) {
      this.outcome(rec, 'not-found');
      return this.sendError(res, oa.azureNotFound(), dialect);
    }
    if (route.responseId !== undefined) {
      this.outcome(rec, 'stored-response');
      return this.storedResponse(res, route, route.responseId, query);
    }
    if (endpoint === 'models') {
      this.outcome(rec, 'models');
      const models = this.opts.models ?? [this.opts.model ?? (this.flavor === 'anthropic' ? 'claude-sonnet-4-5-20250929' : 'gpt-4o-mini')];
      return this.send(res, 200, dialect, false, dialect === 'anthropic' ? an.modelsBody(models) : oa.modelsBody(models), undefined);
    }
    if (badJson || (this.opts.validate !== false && !obj)) {
      this.outcome(rec, 'bad-json');
      return this.sendError(res, dialect === 'anthropic' ? an.badJSON() : oa.badJSON(), dialect);
    }
    const b0 = obj as Record<string, unknown>;
    if (this.opts.validate !== false) {
      const e =
        endpoint === 'count_tokens'
          ? an.validateCountTokens(b0)
          : dialect === 'anthropic'
          ? (an.validate(b0) ?? an.invalidSignature(b0, this.issuedSignatures))
          : endpoint === 'completions'
            ? oa.validateCompletion(b0, dialect === 'azure')
            : endpoint === 'responses'
            ? this.validateResponses(b0, dialect === 'azure')
            : (oa.validate(endpoint === 'embeddings' ? 'embeddings' : 'chat', b0, dialect === 'azure') ??
              (route.needsApiVersion ? oa.azureRefusedForVersion(b0, query['api-version'] as string) : undefined));
      if (e) {
        // A model refusing a sampling parameter is its own outcome, whichever rule found it.
        this.outcome(rec, /is deprecated for this model/.test(e.body) ? 'param-refused' : 'invalid');
        return this.sendError(res, e, dialect);
      }
    }

    const refusal = this.refusedParam(route, b0);
    if (refusal) {
      this.outcome(rec, 'param-refused');
      return this.sendError(res, refusal, dialect);
    }

    const missing = this.missingModel(route, b0);
    if (missing) {
      this.outcome(rec, 'model-not-found');
      return this.sendError(res, missing, dialect);
    }

    if (endpoint === 'count_tokens') {
      this.outcome(rec, 'count-tokens');
      return this.send(res, 200, dialect, false, an.countTokensBody(this.anthropicPromptTokens(b0)), undefined);
    }

    let limitHeaders: Record<string, string> | undefined;
    if (this.opts.rateLimit) {
      const r = this.rateLimited(route, b0);
      if (r.refused) {
        this.outcome(rec, 'rate-limited');
        const model = this.requestModel(route, b0);
        return this.send(res, 429, dialect, false, this.errorFor(dialect, 429, {}, model, r.retryAfterSeconds), r.headers);
      }
      limitHeaders = r.headers;
    }
    const behaviour = this.select(rec);
    rec.behaviour = behaviour;
    this.outcome(rec, behaviour.kind);
    await this.execute(job, req, res, rec, route, b0, behaviour, limitHeaders);
  }

  /** The rateLimit option: counts the request in its window, or refuses it; the headers say where the window stands. */
  private rateLimited(route: Route, body: Record<string, unknown>): { refused: boolean; headers: Record<string, string>; retryAfterSeconds: number } {
    const lim = this.opts.rateLimit!;
    const now = Date.now();
    if (this.window.start === 0 || now - this.window.start >= lim.windowMs) this.window = { start: now, requests: 0, tokens: 0 };
    const w = this.window;
    const tokens = this.promptTokensOf(route, body);
    const maxRequests = lim.requests ?? Number.MAX_SAFE_INTEGER;
    const maxTokens = lim.tokens ?? Number.MAX_SAFE_INTEGER;
    const refused = w.requests + 1 > maxRequests || w.tokens + tokens > maxTokens;
    if (!refused) {
      w.requests++;
      w.tokens += tokens;
    }
    const resetMs = Math.max(1, w.start + lim.windowMs - now);
    const h: Record<string, string> = {};
    const remainingRequests = Math.max(0, maxRequests - w.requests);
    const remainingTokens = Math.max(0, maxTokens - w.tokens);
    if (route.dialect === 'anthropic') {
      // "When the rate limit will be fully replenished", to the second: rounded up, as it must not come early.
      const reset = new Date(Math.ceil((w.start + lim.windowMs) / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      if (lim.requests !== undefined) {
        h['anthropic-ratelimit-requests-limit'] = String(maxRequests);
        h['anthropic-ratelimit-requests-remaining'] = String(remainingRequests);
        h['anthropic-ratelimit-requests-reset'] = reset;
      }
      if (lim.tokens !== undefined) {
        for (const k of ['tokens', 'input-tokens']) {
          h[`anthropic-ratelimit-${k}-limit`] = String(maxTokens);
          h[`anthropic-ratelimit-${k}-remaining`] = String(remainingTokens);
          h[`anthropic-ratelimit-${k}-reset`] = reset;
        }
      }
    } else {
      if (lim.requests !== undefined) {
        h['x-ratelimit-limit-requests'] = String(maxRequests);
        h['x-ratelimit-remaining-requests'] = String(remainingRequests);
        h['x-ratelimit-reset-requests'] = goDuration(resetMs);
      }
      if (lim.tokens !== undefined) {
        h['x-ratelimit-limit-tokens'] = String(maxTokens);
        h['x-ratelimit-remaining-tokens'] = String(remainingTokens);
        h['x-ratelimit-reset-tokens'] = goDuration(resetMs);
      }
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(resetMs / 1000));
    if (refused && lim.retryAfter !== false) h['retry-after'] = String(retryAfterSeconds);
    return { refused, headers: h, retryAfterSeconds };
  }

  private promptTokensOf(route: Route, body: Record<string, unknown>): number {
    if (route.dialect === 'anthropic') return this.anthropicPromptTokens(body);
    return estimateTokens(route.endpoint === 'responses' ? [body['instructions'], body['input']] : (body['messages'] ?? body['prompt'] ?? body['input']));
  }

  /** The promptCache option: the tokens of the longest prompt prefix (whole messages) sent before; every prefix of this one is remembered. */
  private openaiCachedTokens(route: Route, body: Record<string, unknown>): number | undefined {
    const opt = this.opts.promptCache;
    if (!opt) return undefined;
    const min = (typeof opt === 'object' ? opt.minTokens : undefined) ?? 1024;
    const items: unknown[] = route.endpoint === 'responses' ? [body['instructions'], ...(Array.isArray(body['input']) ? body['input'] : [body['input']])] : Array.isArray(body['messages']) ? body['messages'] : [];
    let cached = 0;
    let key = '';
    for (let i = 0; i < items.length; i++) {
      key += JSON.stringify(items[i] ?? null) + '\n';
      const tokens = estimateTokens(items.slice(0, i + 1));
      if (tokens < min) continue;
      if (this.seenPrompts.has(key)) cached = tokens;
      else this.seenPrompts.add(key);
    }
    return cached;
  }

  private select(rec: RecordedRequest): Behaviour {
    const n = this.selections++;
    const next = this.queue.shift();
    if (next) return next;
    const f = this.fallback;
    if (typeof f === 'function') return f(rec, n) ?? { kind: 'ok' };
    return f ?? { kind: 'ok' };
  }

  /** The provider's 400 for the first parameter of `refusesParams` the body has. */
  private refusedParam(route: Route, body: Record<string, unknown>): WireError | undefined {
    const name = this.opts.refusesParams?.find((p) => Object.hasOwn(body, p));
    if (name === undefined) return undefined;
    if (route.dialect === 'anthropic') return { status: 400, body: an.errorBody(400, { message: `\`${name}\` is deprecated for this model.` }, '') };
    return {
      status: 400,
      body: JSON.stringify({ error: { message: `Unsupported parameter: '${name}' is not supported with this model.`, type: 'invalid_request_error', param: name, code: 'unsupported_parameter' } }),
    };
  }

  /** The provider's 404 for a model (Azure: a deployment) it does not have, when `knownModels` is set. */
  private missingModel(route: Route, body: Record<string, unknown>): WireError | undefined {
    const known = this.opts.knownModels;
    if (!known) return undefined;
    const model = route.deployment ?? (typeof body['model'] === 'string' ? body['model'] : '');
    if (known.includes(model)) return undefined;
    if (route.dialect === 'anthropic') return { status: 404, body: an.errorBody(404, {}, model) };
    if (route.dialect === 'azure') return oa.azureDeploymentNotFound();
    return { status: 404, body: oa.errorBody(404, {}, model, false) };
  }

  private checkAuth(route: Route, h: Record<string, string>, key: string): WireError | undefined {
    if (route.dialect === 'anthropic') {
      const given = h['x-api-key'];
      if (given !== key) return an.authError(given);
      if (!h['anthropic-version']) return an.missingVersion();
      return undefined;
    }
    const bearer = h['authorization']?.startsWith('Bearer ') ? h['authorization'].slice(7).trim() : undefined;
    if (route.dialect === 'azure') {
      if (h['api-key'] === key || (route.bearerToo && bearer === key)) return undefined;
      return oa.authError(true, h['api-key']);
    }
    if (bearer === key) return undefined;
    return oa.authError(false, bearer);
  }

  // ------------------------------------------------------------ responses

  private baseHeaders(dialect: Dialect, contentType: string, extra: Record<string, string> | undefined): Record<string, string> {
    let h: Record<string, string>;
    if (dialect === 'anthropic') {
      h = { 'content-type': contentType, 'request-id': an.requestId(), 'anthropic-organization-id': ORG_ID, 'x-fake-provider': this.name };
    } else if (dialect === 'azure') {
      h = { 'content-type': contentType, 'apim-request-id': randomUUID(), 'x-request-id': randomUUID(), 'x-ms-region': 'East US', 'x-fake-provider': this.name };
    } else {
      h = {
        'content-type': contentType,
        'x-request-id': oa.requestId(),
        'openai-version': '2020-10-01',
        'openai-organization': 'org-fake',
        'openai-processing-ms': '1',
        'x-fake-provider': this.name,
      };
    }
    if (contentType.startsWith('text/event-stream')) h['cache-control'] = 'no-cache';
    if (extra) Object.assign(h, extra);
    return h;
  }

  private send(res: ServerResponse, status: number, dialect: Dialect, _stream: boolean, body: string, extra: Record<string, string> | undefined, contentType = 'application/json'): void {
    if (res.destroyed) return;
    const h = this.baseHeaders(dialect, contentType, extra);
    h['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(status, h);
    res.end(body);
  }

  private sendError(res: ServerResponse, e: WireError, dialect: Dialect, extra?: Record<string, string>): void {
    const h = e.headers ? { ...e.headers, ...extra } : extra;
    this.send(res, e.status, dialect, false, e.body, h);
  }

  private errorFor(dialect: Dialect, status: number, spec: ErrorSpec, model: string, retryAfter?: RetryAfter): string {
    return dialect === 'anthropic' ? an.errorBody(status, spec, model) : oa.errorBody(status, spec, model, dialect === 'azure', retryAfterSeconds(retryAfter));
  }

  private requestModel(route: Route, body: Record<string, unknown>, b?: ReplyOverrides): string {
    if (b?.model !== undefined) return b.model;
    if (this.opts.model !== undefined) return this.opts.model;
    const m = body['model'];
    if (typeof m === 'string') return m;
    return route.deployment ?? (this.flavor === 'anthropic' ? 'claude-sonnet-4-5-20250929' : 'gpt-4o-mini');
  }

  private replyContext(route: Route, body: Record<string, unknown>, b: ReplyOverrides): ReplyContext {
    const anthropic = route.dialect === 'anthropic';
    const chunks = Math.max(1, b.chunks ?? this.opts.chunks ?? 4);
    const wantTool = b.toolCall ?? this.opts.toolCall;
    let toolCall: ToolCallReply | undefined;
    let argPiecesEscaped: string[] = [];
    const tools = body['tools'];
    if (wantTool && Array.isArray(tools) && tools.length > 0) {
      const spec: ToolCallSpec = typeof wantTool === 'object' ? wantTool : {};
      // Anthropic and the Responses API have flat tools ({name, input_schema | parameters}); Chat nests them under `function`.
      const flat = anthropic || route.endpoint === 'responses';
      const nameOf = (t: unknown): string | undefined =>
        flat ? (t as { name?: string } | null)?.name : (t as { function?: { name?: string } } | null)?.function?.name;
      const def = (spec.name !== undefined ? tools.find((t) => nameOf(t) === spec.name) : undefined) ?? tools[0];
      const schema = anthropic
        ? (def as { input_schema?: unknown })?.input_schema
        : flat
          ? (def as { parameters?: unknown })?.parameters
          : (def as { function?: { parameters?: unknown } })?.function?.parameters;
      const args = typeof spec.arguments === 'string' ? spec.arguments : JSON.stringify(spec.arguments ?? exampleArguments(schema));
      toolCall = {
        id: spec.id ?? (anthropic ? an.toolUseId() : oa.toolCallId()),
        name: spec.name ?? nameOf(def) ?? 'tool',
        arguments: args,
      };
      argPiecesEscaped = splitArgs(args, chunks).map((p) => JSON.stringify(p));
    }
    const text = toolCall ? (b.text ?? '') : (b.text ?? (anthropic ? structuredReply(body) : undefined) ?? this.defaultText);
    const pieces = toolCall && text === '' ? { pieces: [], escaped: [], full: '' } : replyPieces(text, chunks);
    const model = this.requestModel(route, body, b);
    const streamOptions = body['stream_options'] as { include_usage?: unknown; include_obfuscation?: unknown } | undefined;
    return {
      id: anthropic ? an.messageId() : route.endpoint === 'completions' ? oa.completionId() : oa.chatId(),
      created: unixNow(),
      model,
      modelJson: this.modelJson(model),
      pieces: pieces.pieces,
      escaped: pieces.escaped,
      text: pieces.full,
      toolCall,
      argPiecesEscaped,
      promptTokens: anthropic
        ? this.anthropicPromptTokens(body)
        : estimateTokens(route.endpoint === 'responses' ? [body['instructions'], body['input']] : (body['messages'] ?? body['prompt'])),
      completionTokens: Math.max(1, pieces.pieces.length + argPiecesEscaped.length),
      finishReason: b.finishReason,
      includeUsage: !anthropic && streamOptions?.include_usage === true,
      obfuscation: streamOptions?.include_obfuscation !== false,
      thinking: anthropic ? thinkingReply(body) : undefined,
      reasoning: anthropic || route.endpoint !== 'chat' ? undefined : b.reasoning,
      ...(anthropic ? this.anthropicExtras(body) : this.opts.promptCache ? { cacheReadTokens: this.openaiCachedTokens(route, body) } : {}),
    };
  }

  private anthropicPromptTokens(body: Record<string, unknown>): number {
    return estimateTokens([body['system'], body['messages']]);
  }

  /** Anthropic: a signature issued for the thinking block, and the prompt cache's share of the prompt. */
  private anthropicExtras(body: Record<string, unknown>): Pick<ReplyContext, 'signature' | 'cacheReadTokens' | 'cacheCreationTokens'> {
    const extras: Pick<ReplyContext, 'signature' | 'cacheReadTokens' | 'cacheCreationTokens'> = {};
    if (thinkingReply(body)) {
      extras.signature = an.thinkingSignature();
      this.issuedSignatures.add(extras.signature);
    }
    const prefix = an.cachedPrefix(body);
    if (prefix) {
      const key = JSON.stringify(prefix);
      const tokens = Math.min(estimateTokens(prefix), this.anthropicPromptTokens(body));
      if (this.cachedPrefixes.has(key)) extras.cacheReadTokens = tokens;
      else {
        this.cachedPrefixes.add(key);
        extras.cacheCreationTokens = tokens;
      }
    }
    return extras;
  }

  /** The full non-stream body of a successful reply for this endpoint. */
  private okBody(route: Route, body: Record<string, unknown>, b: ReplyOverrides): string {
    if (route.endpoint === 'embeddings') {
      const input = body['input'];
      const inputs = Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number' ? input : [input];
      const dims = typeof body['dimensions'] === 'number' ? body['dimensions'] : (this.opts.embeddingDimensions ?? 1536);
      const model = this.requestModel(route, body, b);
      return oa.embeddingsBody(this.modelJson(model), inputs.length, dims, body['encoding_format'] === 'base64', estimateTokens(inputs));
    }
    if (route.endpoint === 'responses') {
      const reply = this.responsesReply(route, body, b);
      if (body['background'] !== true) return rs.responseBody(reply);
      // Background: answered at once, queued; GET sees it move on (advanceBackground).
      const response = rs.backgroundObject(reply, 'queued');
      this.stored.set(reply.id, { response, input: rs.storedInputItems(body['input']), background: { reply, status: 'queued' } });
      return JSON.stringify(response);
    }
    const ctx = this.replyContext(route, body, b);
    if (route.endpoint === 'completions') return oa.completionBody(ctx);
    return route.dialect === 'anthropic' ? an.messageBody(ctx) : oa.chatCompletionBody(ctx, route.dialect === 'azure');
  }

  private frames(route: Route, body: Record<string, unknown>, b: ReplyOverrides): StreamFrames {
    if (route.endpoint === 'responses') return rs.responseFrames(this.responsesReply(route, body, b));
    const ctx = this.replyContext(route, body, b);
    if (route.endpoint === 'completions') return oa.completionFrames(ctx);
    return route.dialect === 'anthropic' ? an.messageFrames(ctx) : oa.chatCompletionFrames(ctx, route.dialect === 'azure');
  }

  /**
   * A Responses reply, kept for GET /v1/responses/{id} and previous_response_id
   * unless the request says `store: false` or the behaviour fails the response.
   */
  private responsesReply(route: Route, body: Record<string, unknown>, b: ReplyOverrides & { kind?: string }): rs.ResponsesReply {
    const ctx = this.replyContext(route, body, b);
    const reasoning = body['reasoning'] as { summary?: unknown } | undefined;
    const reply: rs.ResponsesReply = {
      ctx: { ...ctx, id: rs.responseId() },
      request: body,
      id: '',
      messageId: rs.messageItemId(),
      functionCallId: rs.functionCallItemId(),
      reasoningId: rs.reasoningItemId(),
      reasoningSummary: typeof reasoning?.summary === 'string' && reasoning.summary !== 'none' ? 'The user asked a question; answering it directly.' : undefined,
    };
    reply.id = reply.ctx.id;
    if (body['store'] !== false && b.kind !== 'stream-error') {
      this.stored.set(reply.id, { response: rs.responseObject(reply), input: rs.storedInputItems(body['input']) });
    }
    return reply;
  }

  /** What the real API checks of a Responses request, previous_response_id included. */
  private validateResponses(body: Record<string, unknown>, azure: boolean): WireError | undefined {
    const prev = body['previous_response_id'];
    let previousCalls = new Set<string>();
    if (typeof prev === 'string') {
      const stored = this.stored.get(prev);
      if (!stored) return rs.previousNotFound(prev);
      previousCalls = rs.callIdsOf(stored.response['output']);
    }
    return rs.validateResponses(body, azure, previousCalls);
  }

  /** GET and DELETE /v1/responses/{id}, GET …/input_items, POST …/cancel. */
  private storedResponse(res: ServerResponse, route: Route, id: string, query: Record<string, string>): void {
    const stored = this.stored.get(id);
    if (!stored) return this.sendError(res, rs.responseNotFound(id), route.dialect);
    const bg = stored.background;
    switch (route.endpoint) {
      case 'response-get':
        if (bg && query['stream'] === 'true') {
          // Resuming a background stream: the whole reply's events, as it completes.
          this.advanceBackground(id, 'completed');
          this.sseHead(res, route.dialect, undefined);
          res.end(rs.backgroundFrames(bg.reply));
          return;
        }
        if (bg && this.backgroundProgress === 'per-get') this.advanceBackground(id);
        return this.send(res, 200, route.dialect, false, JSON.stringify(stored.response), undefined);
      case 'response-delete':
        this.stored.delete(id);
        return this.send(res, 200, route.dialect, false, rs.deletedBody(id), undefined);
      case 'response-input-items':
        return this.send(res, 200, route.dialect, false, rs.inputItemsBody(stored.input, query), undefined);
      default:
        if (!bg) return this.sendError(res, rs.notCancellable(), route.dialect);
        if (bg.status === 'completed' || bg.status === 'cancelled') return this.sendError(res, rs.cannotCancelFinished(bg.status), route.dialect);
        bg.status = 'cancelled';
        stored.response = rs.backgroundObject(bg.reply, 'cancelled');
        return this.send(res, 200, route.dialect, false, JSON.stringify(stored.response), undefined);
    }
  }

  private streamErrorFrame(dialect: Dialect, spec: ErrorSpec): string {
    return dialect === 'anthropic' ? an.streamErrorFrame(spec) : oa.streamErrorFrame(spec);
  }

  private sseHead(res: ServerResponse, dialect: Dialect, extra: Record<string, string> | undefined): void {
    res.writeHead(200, this.baseHeaders(dialect, 'text/event-stream; charset=utf-8', extra));
  }

  /** Writes `data` and resolves once it has been handed to the kernel. */
  private writeFlushed(res: ServerResponse, data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (res.destroyed) return resolve();
      res.write(data, () => resolve());
    });
  }

  /** Writes the stream's preamble and its first K content chunks, with the configured gaps. */
  private async writeUpTo(job: Job, res: ServerResponse, f: StreamFrames, k: number, gap: number): Promise<void> {
    const upto = Math.max(0, Math.min(k, f.content.length));
    if (gap <= 0 || upto <= 1) {
      await this.writeFlushed(res, f.pre + f.content.slice(0, upto).join(''));
      return;
    }
    res.write(f.pre + f.content[0]);
    for (let i = 1; i < upto; i++) {
      await job.sleep(gap);
      if (job.dead) return;
      if (i === upto - 1) await this.writeFlushed(res, f.content[i] as string);
      else res.write(f.content[i]);
    }
  }

  /** The 'pings' behaviour: keep-alives until the reply (see PingsBehaviour). */
  private async pingsThenReply(job: Job, res: ServerResponse, route: Route, body: Record<string, unknown>, stream: boolean, b: PingsBehaviour, extra: Record<string, string> | undefined): Promise<void> {
    const dialect = route.dialect;
    if (!stream) {
      await job.sleep(b.replyAfterMs);
      if (!job.dead) this.send(res, 200, dialect, false, this.okBody(route, body, b), extra);
      return;
    }
    this.sseHead(res, dialect, extra);
    res.flushHeaders();
    const ping = dialect === 'anthropic' ? 'event: ping\ndata: {"type": "ping"}\n\n' : ': ping\n\n';
    const every = Math.max(1, b.everyMs);
    let at = 0;
    while (at + every < b.replyAfterMs) {
      await job.sleep(every);
      if (job.dead) return;
      at += every;
      res.write(ping);
    }
    await job.sleep(b.replyAfterMs - at);
    if (job.dead) return;
    const f = this.frames(route, body, b);
    res.end(f.pre + f.content.join('') + f.post);
  }

  private async execute(
    job: Job,
    req: IncomingMessage,
    res: ServerResponse,
    rec: RecordedRequest,
    route: Route,
    body: Record<string, unknown>,
    b: Behaviour,
    limitHeaders?: Record<string, string>,
  ): Promise<void> {
    const dialect = route.dialect;
    const socket = req.socket;
    const stream = rec.stream && !(this.opts.negotiateAccept && !acceptsEventStream(rec.headers['accept']));
    const think = b.kind === 'hang' ? 0 : (b.thinkMs ?? (isReply(b) ? (this.opts.thinkMs ?? 0) : 0));
    const extra = b.kind === 'hang' ? undefined : limitHeaders ? { ...limitHeaders, ...b.headers } : b.headers;
    if (think > 0) {
      await job.sleep(think);
      if (job.dead) return;
    }

    switch (b.kind) {
      case 'ok': {
        const gap = b.chunkDelayMs ?? this.opts.chunkDelayMs ?? 0;
        if (!stream) {
          const bodyText = this.okBody(route, body, b);
          if (gap > 0 && route.endpoint !== 'embeddings') {
            await job.sleep(gap * (Math.max(1, b.chunks ?? this.opts.chunks ?? 4) - 1));
            if (job.dead) return;
          }
          return this.send(res, 200, dialect, false, bodyText, extra);
        }
        const f = this.frames(route, body, b);
        this.sseHead(res, dialect, extra);
        if (gap <= 0) {
          res.end(f.pre + f.content.join('') + f.post);
          return;
        }
        res.write(f.pre + f.content[0]);
        for (let i = 1; i < f.content.length; i++) {
          await job.sleep(gap);
          if (job.dead) return;
          res.write(f.content[i]);
        }
        res.end(f.post);
        return;
      }

      case 'pings':
        return this.pingsThenReply(job, res, route, body, stream, b, extra);

      case 'status':
      case 'rate-limit': {
        const status = b.kind === 'status' ? b.status : 429;
        const h: Record<string, string> = {};
        if (b.retryAfter !== undefined) h['retry-after'] = retryAfterValue(b.retryAfter);
        if (b.retryAfterMs !== undefined) h['retry-after-ms'] = String(b.retryAfterMs);
        if (status === 429) {
          if (dialect === 'anthropic') {
            h['anthropic-ratelimit-requests-limit'] = '50';
            h['anthropic-ratelimit-requests-remaining'] = '0';
          } else if (dialect === 'openai') {
            h['x-ratelimit-limit-requests'] = '500';
            h['x-ratelimit-remaining-requests'] = '0';
          }
        }
        Object.assign(h, extra);
        if (b.kind === 'status' && b.body !== undefined) {
          const text = typeof b.body === 'string' ? b.body : JSON.stringify(b.body);
          return this.send(res, status, dialect, false, text, h);
        }
        if (b.kind === 'status' && b.html) {
          return this.send(res, status, dialect, false, oa.cloudflareHTML(status), h, 'text/html');
        }
        const model = this.requestModel(route, body);
        return this.send(res, status, dialect, false, this.errorFor(dialect, status, b, model, b.retryAfter), h);
      }

      case 'context-window': {
        const tokens = estimateTokens(dialect === 'anthropic' ? [body['system'], body['messages']] : (body['messages'] ?? body['input']));
        return this.sendError(res, dialect === 'anthropic' ? an.contextWindowError(tokens) : oa.contextWindowError(tokens), dialect, extra);
      }

      case 'quota':
        return this.sendError(res, dialect === 'anthropic' ? an.quotaError() : oa.quotaError(), dialect, extra);

      case 'hang':
        return;

      case 'reset':
        destroySocket(socket, b.rst ?? true);
        return;

      case 'headers-then-stall':
        if (stream) this.sseHead(res, dialect, extra);
        else res.writeHead(200, this.baseHeaders(dialect, 'application/json', extra));
        res.flushHeaders();
        return;

      case 'cut':
      case 'stall': {
        if (!stream) {
          const full = Buffer.from(this.okBody(route, body, b));
          const h = this.baseHeaders(dialect, 'application/json', extra);
          h['content-length'] = String(full.length);
          res.writeHead(200, h);
          await this.writeFlushed(res, full.subarray(0, Math.floor(full.length / 2)));
        } else {
          const f = this.frames(route, body, b);
          this.sseHead(res, dialect, extra);
          await this.writeUpTo(job, res, f, b.afterChunks, b.chunkDelayMs ?? this.opts.chunkDelayMs ?? 0);
        }
        if (job.dead) return;
        if (b.kind === 'cut') destroySocket(socket, b.rst ?? false);
        return;
      }

      case 'stream-error': {
        const spec: ErrorSpec = { message: b.message, type: b.type, code: b.code, param: b.param };
        if (!stream) {
          const status = dialect === 'anthropic' ? 529 : 500;
          const model = this.requestModel(route, body);
          return this.send(res, status, dialect, false, this.errorFor(dialect, status, spec, model), extra);
        }
        const f = this.frames(route, body, b);
        this.sseHead(res, dialect, extra);
        await this.writeUpTo(job, res, f, b.afterChunks, b.chunkDelayMs ?? this.opts.chunkDelayMs ?? 0);
        if (job.dead) return;
        res.end(route.endpoint === 'responses' ? (f as rs.ResponsesFrames).errorAfter(b.afterChunks, spec) : this.streamErrorFrame(dialect, spec));
        return;
      }

      case 'dribble': {
        const size = Math.max(1, b.bytesPerWrite ?? 16);
        const delay = b.delayMs ?? 5;
        let payload: Buffer;
        if (stream) {
          const f = this.frames(route, body, b);
          payload = Buffer.from(f.pre + f.content.join('') + f.post);
          this.sseHead(res, dialect, extra);
        } else {
          payload = Buffer.from(this.okBody(route, body, b));
          const h = this.baseHeaders(dialect, 'application/json', extra);
          h['content-length'] = String(payload.length);
          res.writeHead(200, h);
        }
        for (let at = 0; at < payload.length; at += size) {
          if (at > 0) await job.sleep(delay);
          if (job.dead) return;
          res.write(payload.subarray(at, at + size));
        }
        res.end();
        return;
      }

      case 'split-sse': {
        const pause = b.splitDelayMs ?? 10;
        const gap = b.chunkDelayMs ?? this.opts.chunkDelayMs ?? 0;
        let units: string[];
        if (stream) {
          const f = this.frames(route, body, b);
          units = [f.pre, ...f.content, f.post];
          this.sseHead(res, dialect, extra);
        } else {
          const text = this.okBody(route, body, b);
          units = [text];
          const h = this.baseHeaders(dialect, 'application/json', extra);
          h['content-length'] = String(Buffer.byteLength(text));
          res.writeHead(200, h);
        }
        for (let i = 0; i < units.length; i++) {
          if (i > 1 && gap > 0) await job.sleep(gap);
          if (job.dead) return;
          const buf = Buffer.from(units[i] as string);
          const mid = Math.max(1, Math.floor(buf.length / 2));
          await this.writeFlushed(res, buf.subarray(0, mid));
          await job.sleep(pause);
          if (job.dead) return;
          await this.writeFlushed(res, buf.subarray(mid));
          if (i < units.length - 1) await job.sleep(pause);
          if (job.dead) return;
        }
        res.end();
        return;
      }

      case 'truncated-json': {
        const full = Buffer.from(this.okBody(route, body, b));
        const keep = Math.max(0, Math.min(full.length - 1, b.keepBytes ?? Math.floor(full.length / 2)));
        const h = this.baseHeaders(dialect, 'application/json', extra);
        h['content-length'] = String(b.earlyClose ? full.length : keep);
        res.writeHead(200, h);
        if (!b.earlyClose) {
          res.end(full.subarray(0, keep));
          return;
        }
        await this.writeFlushed(res, full.subarray(0, keep));
        if (!job.dead) destroySocket(socket, false);
        return;
      }

      case 'error-body': {
        const status = b.status ?? 500;
        const model = this.requestModel(route, body);
        return this.send(res, 200, dialect, false, this.errorFor(dialect, status, b, model), extra);
      }

      case 'garbage': {
        const data = b.data ?? DEFAULT_GARBAGE;
        if (!socket.destroyed) socket.end(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
        return;
      }
    }
  }
}

/** Starts a fake provider listening on `options.host` (127.0.0.1) and `options.port` (0: ephemeral). */
export async function startFakeProvider(options: FakeProviderOptions): Promise<FakeProvider> {
  const fake = new FakeProviderServer(options);
  await fake.listen(options.port ?? 0);
  return fake;
}
