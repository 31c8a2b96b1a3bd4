/**
 * What every provider adapter offers. An adapter is pure: it turns the
 * client's OpenAI-shaped request into the provider's wire request, and the
 * provider's responses (whole or streamed) back into OpenAI's shapes. The
 * network, timers and retries live elsewhere.
 */
import type { Secret } from '../secret.ts';
import type { ErrorClass } from '../error-classes.ts';
import type { FramedStream } from '../surfaces/types.ts';

import type { Provider } from '../../../api/v1alpha1/enums.ts';

export type ProviderName = Provider;

/**
 * Which endpoint the client called: OpenAI's chat, embeddings, legacy
 * completions, Responses (`responses`), or Anthropic's Messages (`messages`,
 * `count-tokens`). The provider adapters of providers/ take the first three;
 * the others reach a target through a surface (surfaces/types.ts).
 */
export type EndpointKind = 'chat' | 'embeddings' | 'completions' | 'responses' | 'messages' | 'count-tokens';

/** The parts of a target an adapter needs. */
export interface ProviderTarget {
  provider: ProviderName;
  /** The provider's model (Azure: the deployment name). */
  model: string;
  /** Base URL without a trailing slash, e.g. https://api.openai.com/v1. */
  baseURL: string;
  /** azure-openai only: the api-version query parameter. */
  apiVersion?: string | undefined;
  apiKey?: Secret | undefined;
  /** max_tokens when the client sets none (anthropic); undefined: the adapter's default for the model. */
  maxTokens?: number | undefined;
  /** bedrock: the AWS region requests are signed for. */
  region?: string | undefined;
  /** vertex: the Google Cloud project and the Vertex AI location of the request path. */
  project?: string | undefined;
  location?: string | undefined;
}

/** A request ready to send upstream. `body` is the serialised JSON. */
export interface UpstreamRequest {
  /** Default POST. */
  method?: 'POST' | 'GET' | 'DELETE' | undefined;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Usage {
  prompt: number;
  completion: number;
}

/**
 * A failure the provider reported in a body (an error response, a 200 that
 * carries an error, or an error event inside a stream), already in OpenAI's
 * error shape so that it can go back to the client when it must.
 */
export interface ProviderError {
  /** The class decided from the status and the body (see classify.ts). */
  errorClass: ErrorClass;
  /** The HTTP status that the provider sent, or the one its error type implies (Anthropic overloaded_error: 529). */
  status: number;
  message: string;
  /** OpenAI's error.type, e.g. invalid_request_error. */
  type: string;
  /** OpenAI's error.code, e.g. context_length_exceeded, or null. */
  code: string | null;
  param?: string | null;
}

export type ParsedResponse =
  | { ok: true; body: string; usage?: Usage | undefined }
  | { ok: false; error: ProviderError };

/** One server-sent event as the SSE parser hands it over. */
export interface SseEvent {
  event?: string | undefined;
  data: string;
}

/**
 * What one upstream event gives. `C` is how chunks come: JSON text for the Chat API (the
 * default), or the objects themselves for a bridge to another API (createChunkDecoder).
 */
export interface StreamStep<C = string> {
  /** OpenAI chat.completion.chunk objects, each already serialised as JSON, to send as `data: ...` lines. */
  out: C[];
  /**
   * True when one of `out` carries content: text, a tool call, a refusal (the commit point).
   * Only the first one counts: after it, a decoder may pass chunks on without looking (false).
   */
  content: boolean;
  /** True once the provider has finished the stream normally. */
  finished: boolean;
  error?: ProviderError | undefined;
  /** Usage, once the stream has reported it. */
  usage?: Usage | undefined;
}

export interface StreamDecoder<C = string> {
  /** Feed one upstream SSE event. */
  push(event: SseEvent): StreamStep<C>;
  /**
   * Set by decoders of a stream that is not SSE (Bedrock's binary event stream): the raw body
   * bytes go here, as they arrive, instead of through the SSE parser. Throws on a frame that
   * cannot be read (a CRC mismatch): the stream cannot go on.
   */
  pushBytes?(chunk: Buffer): StreamStep<C>[];
  /** Set when `out` are whole SSE frames of another API than Chat (surfaces/types.ts). */
  readonly framed?: FramedStream | undefined;
}

export interface BuildOptions {
  stream: boolean;
  /**
   * The client's request headers, names lower-cased. A native codec passes
   * on the few its API defines for the client to set (Messages: `anthropic-beta`);
   * no adapter copies them wholesale (the client's key must never go upstream).
   */
  clientHeaders?: Readonly<Record<string, string | string[] | undefined>> | undefined;
}

export interface ProviderAdapter {
  readonly name: ProviderName;
  /**
   * Builds the upstream request. `body` is the client's parsed JSON (already
   * checked to be an object with a string `model` and, for chat, a
   * `messages` array). Throws a BadRequestError (errors.ts) for a request
   * this provider cannot serve at all, e.g. embeddings on Anthropic.
   */
  buildRequest(kind: EndpointKind, body: Record<string, unknown>, target: ProviderTarget, options: BuildOptions): UpstreamRequest;
  /**
   * Turns a 2xx non-stream body into OpenAI's response (or the error it
   * carries). `request` is the client's body, for what the answer's shape
   * depends on (anthropic: legacy functions, emulated stop sequences).
   */
  parseResponse(kind: EndpointKind, status: number, text: string, target: ProviderTarget, request?: Record<string, unknown>): ParsedResponse;
  /** Turns a non-2xx response into a ProviderError. `headers` are lower-cased (bedrock: x-amzn-errortype names the error). */
  parseError(status: number, text: string, headers?: Record<string, string | string[] | undefined>): ProviderError;
  /** A fresh translator for one streamed response. */
  createStreamDecoder(target: ProviderTarget, request: Record<string, unknown>): StreamDecoder;
  /**
   * The same decoder giving chunk objects instead of their JSON text, for a bridge that reads
   * them (surfaces/chat-bridge.ts): a translating adapter's own chunks are never serialised; an
   * OpenAI-shaped one's are parsed once (the common text delta read without a parse). An
   * object may hold only what the bridges read (choices, usage, the first chunk's model).
   */
  createChunkDecoder?(target: ProviderTarget, request: Record<string, unknown>): StreamDecoder<Record<string, unknown>>;
  /**
   * The asynchronous last step before sending, for what needs I/O (bedrock: credentials and a
   * SigV4 signature). Called by the attempt after buildRequest and the target's params shaping,
   * so what is signed is what is sent. Rejects with a ProviderAuthError (errors.ts) when no
   * credentials can be had; its message never holds one.
   */
  prepare?(request: UpstreamRequest, target: ProviderTarget, signal: AbortSignal): Promise<UpstreamRequest>;
}
