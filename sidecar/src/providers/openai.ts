/**
 * Adapters for providers that speak OpenAI's API: `openai`,
 * `openai-compatible` and `azure-openai`. The wire format is the client's
 * own, so the work is small: swap the model, point at the right URL, set the
 * key header, ask for usage in streams, and read errors and usage back.
 * Upstream bodies and chunks are passed on as the very strings received.
 */
import { hintFromError } from '../classify.ts';
import {
  count,
  emptyStep,
  errorStep,
  invalidBodyError,
  invalidStreamEventError,
  isObject,
  providerError,
  str,
  trimSlashes,
  truncate,
  tryParse,
  typeForStatus,
  type Json,
} from './common.ts';
import type {
  BuildOptions,
  EndpointKind,
  ParsedResponse,
  ProviderAdapter,
  ProviderError,
  ProviderTarget,
  SseEvent,
  StreamDecoder,
  StreamStep,
  UpstreamRequest,
  Usage,
} from './types.ts';

type OpenAIFamily = 'openai' | 'openai-compatible' | 'azure-openai';

/** Used when an azure-openai target names no apiVersion. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

/** The chat adapters' endpoints; the others reach OpenAI-shaped targets through a surface (surfaces/types.ts). */
const PATHS: Readonly<Record<'chat' | 'embeddings' | 'completions', string>> = { chat: 'chat/completions', embeddings: 'embeddings', completions: 'completions' };

const streamOptionsByVersion = new Map<string, boolean>();

/**
 * Whether an Azure api-version takes `stream_options` (older ones refuse the
 * request with "Unrecognized request argument supplied: stream_options"):
 * GA versions from 2024-10-21, previews from 2024-09-01-preview. A version
 * of another shape is assumed not to.
 */
export function azureTakesStreamOptions(apiVersion: string): boolean {
  let yes = streamOptionsByVersion.get(apiVersion);
  if (yes === undefined) {
    const m = /^(\d{4}-\d{2}-\d{2})(-preview)?$/.exec(apiVersion);
    yes = m ? m[1]! >= (m[2] ? '2024-09-01' : '2024-10-21') : false;
    if (streamOptionsByVersion.size < 64) streamOptionsByVersion.set(apiVersion, yes);
  }
  return yes;
}

// ---------------------------------------------------------------- requests

function buildRequest(
  family: OpenAIFamily,
  kind: EndpointKind,
  body: Record<string, unknown>,
  target: ProviderTarget,
  options: BuildOptions,
): UpstreamRequest {
  if (kind !== 'chat' && kind !== 'embeddings' && kind !== 'completions') throw new Error(`the ${family} chat adapter does not build '${kind}' requests (a surface does)`);
  // Servers that negotiate on Accept answer a stream request without it as JSON.
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: options.stream ? 'text/event-stream' : 'application/json' };
  const key = target.apiKey?.reveal();
  const out: Json = { ...body };
  let url: string;
  /** Azure before the api-versions that take stream_options: none is sent, so a stream's usage goes uncounted. */
  let streamOptions = true;

  if (family === 'azure-openai') {
    let base = trimSlashes(target.baseURL);
    if (base.endsWith('/openai/v1')) {
      // Azure's newer "v1" API: OpenAI's paths, the deployment goes in `model`, no api-version.
      url = `${base}/${PATHS[kind]}`;
      out.model = target.model;
    } else {
      if (base.endsWith('/openai')) base = base.slice(0, -'/openai'.length);
      const apiVersion = target.apiVersion || DEFAULT_AZURE_API_VERSION;
      streamOptions = azureTakesStreamOptions(apiVersion);
      url = `${base}/openai/deployments/${encodeURIComponent(target.model)}/${PATHS[kind]}?api-version=${encodeURIComponent(apiVersion)}`;
      delete out.model; // the deployment is in the URL
    }
    if (key) headers['api-key'] = key;
  } else {
    url = `${trimSlashes(target.baseURL)}/${PATHS[kind]}`;
    out.model = target.model;
    if (key) headers.authorization = `Bearer ${key}`;
  }

  if (kind !== 'embeddings') {
    if (options.stream && !streamOptions) {
      out.stream = true;
      delete out.stream_options;
    } else if (options.stream) {
      out.stream = true;
      // Always ask for the usage chunk so that tokens can be counted. Whether the
      // client asked for it itself is read again from the client's body by the
      // stream decoder (createStreamDecoder), which hides the chunk otherwise.
      const asked = isObject(body.stream_options) ? body.stream_options : undefined;
      out.stream_options = asked ? { ...asked, include_usage: true } : { include_usage: true };
    } else {
      if ('stream' in out) out.stream = false;
      delete out.stream_options; // OpenAI rejects stream_options without stream
    }
  }
  return { url, headers, body: JSON.stringify(out) };
}

// ------------------------------------------------------------------ errors

interface ErrorFields {
  message: string | undefined;
  type: string | undefined;
  code: string | null;
  param: string | null;
  /** A status the body itself names (a numeric code, as some gateways send). */
  status: number | undefined;
}

/** Reads `{error: {...}}`, `{error: "..."}`, `{message: ...}` or `{detail: "..."}` (and a one-element array of those). */
function readErrorFields(body: unknown): ErrorFields | undefined {
  if (Array.isArray(body)) body = body[0];
  if (!isObject(body)) return undefined;
  const e = body.error;
  const src = isObject(e) ? e : body;
  const message = isObject(e) ? str(e.message) : (str(e) ?? str(body.message) ?? str(body.detail));
  let code: string | null = null;
  let status: number | undefined;
  const rawCode = src.code;
  if (typeof rawCode === 'string' && rawCode) {
    if (/^[45]\d\d$/.test(rawCode)) status = Number(rawCode);
    else code = rawCode;
  } else if (typeof rawCode === 'number' && rawCode >= 400 && rawCode < 600) {
    status = rawCode;
  }
  if (status === undefined && typeof src.status === 'number' && src.status >= 400 && src.status < 600) status = src.status;
  return { message, type: str(src.type) || undefined, code, param: str(src.param) ?? null, status };
}

/**
 * The status an error implies when the HTTP status does not tell (a 2xx
 * that carries an error, or an error inside a stream).
 */
function impliedStatus(f: ErrorFields, fallback: number): number {
  if (f.status !== undefined) return f.status;
  const hint = hintFromError(f.code, f.message, f.type);
  if (hint === 'quota') return 429;
  if (hint === 'context-window') return 400;
  const k = `${f.type ?? ''} ${f.code ?? ''}`.toLowerCase();
  if (k.includes('rate_limit') || k.includes('too_many_requests') || k.includes('resource_exhausted')) return 429;
  if (k.includes('authentication') || k.includes('invalid_api_key') || k.includes('unauthorized')) return 401;
  if (k.includes('permission')) return 403;
  if (k.includes('not_found') || k.includes('notfound')) return 404;
  if (k.includes('invalid_request')) return 400;
  if (k.includes('overloaded') || k.includes('unavailable')) return 503;
  return fallback;
}

function errorFromFields(f: ErrorFields, status: number, fallbackMessage: string): ProviderError {
  return providerError(status, f.message || fallbackMessage, f.type ?? typeForStatus(status), f.code, f.param);
}

/** A non-2xx response: OpenAI's error body, tolerant of other shapes and of non-JSON text. */
export function parseOpenAIError(status: number, text: string): ProviderError {
  const f = readErrorFields(tryParse(text));
  const fallback = truncate(text.trim()) || `the provider answered ${status} with an empty body`;
  if (!f) return providerError(status, fallback, typeForStatus(status), null);
  return errorFromFields(f, status, fallback);
}

/**
 * The error a 2xx body or a stream event carries (`{error: {...}}` and the
 * other shapes readErrorFields takes), its status implied by what it says.
 */
export function carriedError(body: unknown, fallbackStatus: number, fallbackMessage: string): ProviderError {
  const f = readErrorFields(body) ?? { message: undefined, type: undefined, code: null, param: null, status: undefined };
  return errorFromFields(f, impliedStatus(f, fallbackStatus), fallbackMessage);
}

// --------------------------------------------------------------- responses

function readUsage(u: unknown, kind: EndpointKind): Usage | undefined {
  if (!isObject(u)) return undefined;
  return { prompt: count(u.prompt_tokens), completion: kind === 'embeddings' ? 0 : count(u.completion_tokens) };
}

function parseResponse(kind: EndpointKind, _status: number, text: string): ParsedResponse {
  const parsed = tryParse(text);
  if (!isObject(parsed)) return { ok: false, error: invalidBodyError('response body') };
  if (parsed.error) return { ok: false, error: carriedError(parsed, 500, 'the provider answered 2xx with an error') };
  // The hot path: the upstream text goes back as it is.
  return { ok: true, body: text, usage: readUsage(parsed.usage, kind) };
}

// ------------------------------------------------------------------ stream

function nonEmpty(v: unknown): boolean {
  return typeof v === 'string' ? v.length > 0 : Array.isArray(v) && v.length > 0;
}

/** True when a chunk's choices carry anything the client would see as output. */
function hasContent(choices: unknown): boolean {
  if (!Array.isArray(choices)) return false;
  for (const c of choices) {
    if (!isObject(c)) continue;
    // A legacy completion's chunk carries its text in the choice itself.
    if (nonEmpty(c.text)) return true;
    const d = c.delta;
    if (!isObject(d)) continue;
    if (
      nonEmpty(d.content) ||
      nonEmpty(d.tool_calls) ||
      isObject(d.function_call) ||
      nonEmpty(d.refusal) ||
      nonEmpty(d.reasoning_content) ||
      nonEmpty(d.reasoning)
    ) {
      return true;
    }
  }
  return false;
}

/**
 * A chunk that, once the stream has shown content, needs no parsing: an
 * object (braces at both ends) with no `"error"` key and no usage object
 * (`"usage":null` is what OpenAI puts in every chunk when usage was asked
 * for). A quote inside a string value is escaped (`\"`), so these keys
 * cannot be faked by text; a false alarm only costs the full parse.
 * Parsing every chunk was 16 % of the sidecar's CPU on streams (bench/README.md).
 */
export function isPlainChunk(data: string): boolean {
  if (data.charCodeAt(0) !== 123 || data.charCodeAt(data.length - 1) !== 125) return false;
  if (data.includes('"error"')) return false;
  const u = data.indexOf('"usage"');
  return u === -1 || (data.startsWith('"usage":null', u) && data.indexOf('"usage"', u + 7) === -1);
}

/**
 * The text of a chunk whose one choice is a content delta and nothing else,
 * `"choices":[{"index":0,"delta":{"content":"…"},"logprobs":null,"finish_reason":null}]`:
 * nearly every chunk of a text answer. Undefined for any other shape (then
 * the chunk is parsed). Like isPlainChunk it leans on JSON's escaping: these
 * keys cannot occur inside a string value, where a quote is `\"`.
 */
export function plainContentDelta(data: string): string | undefined {
  const at = data.indexOf(PLAIN_DELTA_HEAD);
  if (at === -1) return undefined;
  const open = at + PLAIN_DELTA_HEAD.length - 1;
  // The closing quote: the first one not escaped (preceded by an even number of backslashes).
  let close = data.indexOf('"', open + 1);
  for (; close !== -1; close = data.indexOf('"', close + 1)) {
    let b = close - 1;
    while (data.charCodeAt(b) === 92) b--;
    if ((close - 1 - b) % 2 === 0) break;
  }
  if (close === -1 || !data.startsWith(PLAIN_DELTA_TAIL, close + 1)) return undefined;
  const literal = data.slice(open, close + 1);
  if (literal.indexOf('\\') === -1) return literal.slice(1, -1);
  const text = tryParse(literal);
  return typeof text === 'string' ? text : undefined;
}
const PLAIN_DELTA_HEAD = '"choices":[{"index":0,"delta":{"content":"';
const PLAIN_DELTA_TAIL = '},"logprobs":null,"finish_reason":null}]';

/** How the decoder hands chunks on: the provider's JSON text (the Chat API), or objects (a bridge to another API). */
interface ChunkForm<C> {
  /** A plain chunk after the commit point (isPlainChunk), not parsed yet; undefined when it does not parse. */
  plain(data: string): C | undefined;
  /** A chunk the decoder parsed. */
  parsed(data: string, chunk: Json): C;
}
const AS_TEXT: ChunkForm<string> = { plain: (data) => data, parsed: (data) => data };
const AS_OBJECTS: ChunkForm<Json> = {
  plain(data) {
    const text = plainContentDelta(data);
    if (text !== undefined) return { choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }] };
    const chunk = tryParse(data);
    return isObject(chunk) ? chunk : undefined;
  },
  parsed: (_data, chunk) => chunk,
};

class OpenAIStreamDecoder<C> implements StreamDecoder<C> {
  readonly #clientWantsUsage: boolean;
  readonly #form: ChunkForm<C>;
  /** A chunk with content went by: from here on, plain chunks pass unparsed (see isPlainChunk). */
  #sawContent = false;

  constructor(clientWantsUsage: boolean, form: ChunkForm<C>) {
    this.#clientWantsUsage = clientWantsUsage;
    this.#form = form;
  }

  push(event: SseEvent): StreamStep<C> {
    const data = event.data;
    // `content` is not inspected here: the commit point is behind us.
    if (this.#sawContent && event.event === undefined && isPlainChunk(data)) {
      const chunk = this.#form.plain(data);
      if (chunk !== undefined) return { out: [chunk], content: false, finished: false };
    }
    if (data === '[DONE]' || data.trim() === '[DONE]') return { out: [], content: false, finished: true };
    if (data.trim() === '') return emptyStep();
    const parsed = tryParse(data);
    if (!isObject(parsed)) return errorStep(invalidStreamEventError());
    if (parsed.error || event.event === 'error') return errorStep(carriedError(parsed, 500, 'the provider reported an error in the stream'));
    const usage = readUsage(parsed.usage, 'chat');
    const choices = parsed.choices;
    if (usage && Array.isArray(choices) && choices.length === 0) {
      // The usage-only chunk that we asked for: pass it on only when the client asked too.
      return { out: this.#clientWantsUsage ? [this.#form.parsed(data, parsed)] : [], content: false, finished: false, usage };
    }
    const step: StreamStep<C> = { out: [this.#form.parsed(data, parsed)], content: hasContent(choices), finished: false };
    if (step.content) this.#sawContent = true;
    if (usage) step.usage = usage;
    return step;
  }
}

/** Whether the client's own request asked for the final usage chunk. */
export function clientWantsUsage(request: Record<string, unknown>): boolean {
  const so = request.stream_options;
  return isObject(so) && so.include_usage === true;
}

// ---------------------------------------------------------------- adapters

function makeAdapter(family: OpenAIFamily): ProviderAdapter {
  return {
    name: family,
    buildRequest: (kind, body, target, options) => buildRequest(family, kind, body, target, options),
    parseResponse: (kind, status, text) => parseResponse(kind, status, text),
    parseError: parseOpenAIError,
    createStreamDecoder: (_target, request) => new OpenAIStreamDecoder(clientWantsUsage(request), AS_TEXT),
    createChunkDecoder: (_target, request) => new OpenAIStreamDecoder(clientWantsUsage(request), AS_OBJECTS),
  };
}

export const openaiAdapter: ProviderAdapter = makeAdapter('openai');
export const openaiCompatibleAdapter: ProviderAdapter = makeAdapter('openai-compatible');
export const azureOpenaiAdapter: ProviderAdapter = makeAdapter('azure-openai');
