/**
 * The Responses API spoken natively to `openai`, `azure-openai` and
 * `openai-compatible` targets that serve it: the client's body goes out with
 * the target's model, and what comes back is passed on as received, read only
 * for usage, errors, the commit point and the final response (which the
 * response store keeps). `store` and `previous_response_id` go as the client
 * sent them: the glue decides about them.
 *
 * Azure: a base URL ending in /openai/v1 is Azure's v1 API (OpenAI's paths,
 * `…/openai/v1/responses`); any other is the preview API,
 * `…/openai/responses?api-version=…`. Both take the deployment name as the
 * body's `model`. The preview path exists from api-version
 * 2025-03-01-preview: an older configured version (one for chat, such as
 * the chat adapter's default 2024-10-21) is replaced by
 * DEFAULT_AZURE_RESPONSES_API_VERSION.
 */
import { count, emptyStep, errorStep, invalidBodyError, invalidStreamEventError, isObject, str, trimSlashes, tryParse, type Json } from '../../providers/common.ts';
import { carriedError, parseOpenAIError } from '../../providers/openai.ts';
import type { ParsedResponse, ProviderAdapter, ProviderError, ProviderTarget, SseEvent, StreamDecoder, StreamStep, UpstreamRequest, Usage } from '../../providers/types.ts';
import type { FramedStream, StreamErrorFields } from '../types.ts';
import { streamErrorFrames } from './stream-error.ts';

export type ResponsesFamily = 'openai' | 'openai-compatible' | 'azure-openai';

/** The api-version of Azure's preview Responses path when the target names none that has it. */
export const DEFAULT_AZURE_RESPONSES_API_VERSION = '2025-04-01-preview';

/** Whether an Azure api-version has the Responses API (2025-03-01-preview and later). */
export function azureVersionHasResponses(apiVersion: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})(-preview)?$/.exec(apiVersion);
  return m !== null && m[1]! >= '2025-03-01';
}

/** Where a target's Responses API lives: the URL of `path` under it (Azure's preview API with its api-version), and the target's own auth. */
function responsesEndpoint(family: ResponsesFamily, target: ProviderTarget, path: string, query = ''): { url: string; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const key = target.apiKey?.reveal();
  let url: string;
  let base = trimSlashes(target.baseURL);
  if (family === 'azure-openai') {
    if (base.endsWith('/openai/v1')) {
      url = `${base}/${path}${query ? `?${query}` : ''}`;
    } else {
      if (base.endsWith('/openai')) base = base.slice(0, -'/openai'.length);
      const v = target.apiVersion && azureVersionHasResponses(target.apiVersion) ? target.apiVersion : DEFAULT_AZURE_RESPONSES_API_VERSION;
      url = `${base}/openai/${path}?api-version=${encodeURIComponent(v)}${query ? `&${query}` : ''}`;
    }
    if (key) headers['api-key'] = key;
  } else {
    url = `${base}/${path}${query ? `?${query}` : ''}`;
    if (key) headers.authorization = `Bearer ${key}`;
  }
  return { url, headers };
}

function buildRequest(family: ResponsesFamily, kind: string, body: Json, target: ProviderTarget, stream: boolean): UpstreamRequest {
  if (kind !== 'responses') throw new Error(`the ${family} Responses codec does not build '${kind}' requests`);
  const { url, headers } = responsesEndpoint(family, target, 'responses');
  headers['content-type'] = 'application/json';
  headers.accept = stream ? 'text/event-stream' : 'application/json';
  const out: Json = { ...body, model: target.model };
  if (stream) {
    out.stream = true;
  } else {
    if ('stream' in out) out.stream = false;
    delete out.stream_options; // taken only with stream
  }
  return { url, headers, body: JSON.stringify(out) };
}

/** What is asked of a stored response at its target (GET, DELETE, GET …/input_items, POST …/cancel). */
export type StoredResponseAction = 'get' | 'delete' | 'input_items' | 'cancel';

/**
 * The request for a stored response at a target that serves the Responses API
 * (GET /v1/responses/{id} and its kin), with the same URL shapes and auth as
 * POST /v1/responses: `query` is the client's query string, passed on as it is
 * (`stream=true&starting_after=…`, input_items' `limit`/`order`/`after`).
 */
export function storedResponseRequest(family: ResponsesFamily, target: ProviderTarget, id: string, action: StoredResponseAction, query = ''): UpstreamRequest {
  const tail = action === 'input_items' ? '/input_items' : action === 'cancel' ? '/cancel' : '';
  const { url, headers } = responsesEndpoint(family, target, `responses/${encodeURIComponent(id)}${tail}`, query);
  const stream = action === 'get' && new URLSearchParams(query).get('stream') === 'true';
  headers.accept = stream ? 'text/event-stream' : 'application/json';
  return { method: action === 'delete' ? 'DELETE' : action === 'cancel' ? 'POST' : 'GET', url, headers, body: '' };
}

/** Usage from a Response object. */
export function responseUsage(response: unknown): Usage | undefined {
  if (!isObject(response) || !isObject(response.usage)) return undefined;
  return { prompt: count(response.usage.input_tokens), completion: count(response.usage.output_tokens) };
}

/** The error of a failed Response (`error {code, message}`), its status implied by the code. */
function failedResponseError(response: Json): ProviderError {
  return carriedError({ error: response.error }, 500, 'the provider reported that the response failed');
}

function parseResponse(text: string): ParsedResponse {
  const parsed = tryParse(text);
  if (!isObject(parsed)) return { ok: false, error: invalidBodyError('response body') };
  // A Response has `error: null`; a failed one (and a 2xx error body) has an object there.
  if (isObject(parsed.error)) return { ok: false, error: failedResponseError(parsed) };
  return { ok: true, body: text, usage: responseUsage(parsed) };
}

/** Events whose data, the first time one goes by, is output the client sees: the commit point. */
const CONTENT_EVENTS = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.reasoning_summary_text.delta',
  'response.reasoning_text.delta',
]);

/** Events that need their data read after the commit point. */
const READ_AFTER_COMMIT = new Set(['response.completed', 'response.incomplete', 'response.failed', 'error']);

/** The top-level sequence_number of an event's data, without parsing it (a quote inside a string value is escaped, so the key cannot be faked by text). */
export function sequenceNumberOf(data: string): number | undefined {
  const at = data.indexOf('"sequence_number":');
  if (at < 0) return undefined;
  const m = /^\s*(\d+)/.exec(data.slice(at + 18, at + 40));
  return m ? Number(m[1]) : undefined;
}

/** The Responses stream decoder: frames passed on unchanged, the final response kept. */
export interface ResponsesStreamDecoder extends StreamDecoder {
  readonly framed: FramedStream;
  /** The final Response object (response.completed or response.incomplete), once it went by: for the response store. */
  readonly completed: Json | undefined;
}

class NativeResponsesDecoder implements ResponsesStreamDecoder {
  readonly framed: FramedStream;
  completed: Json | undefined;
  #committed = false;
  /** The sequence_number of the last frame passed on. */
  #lastSeq = -1;
  /** The response as the lifecycle events announced it (created, in_progress), or as response.failed left it. */
  #response: Json | undefined;

  constructor() {
    this.framed = { end: '', error: (e) => this.#error(e), result: () => this.completed };
  }

  push(event: SseEvent): StreamStep {
    const data = event.data;
    if (data.trim() === '') return emptyStep();
    if (data.trim() === '[DONE]') return { out: [], content: false, finished: true };
    const name = event.event;
    // After the commit point, only the event's name is looked at.
    if (this.#committed && name !== undefined && !READ_AFTER_COMMIT.has(name)) return this.#pass(data, name, false);
    const parsed = tryParse(data);
    if (!isObject(parsed)) return errorStep(invalidStreamEventError());
    const type = name ?? str(parsed.type) ?? '';
    switch (type) {
      case 'error': {
        // ResponseErrorEvent has code/message/param at its top; some servers nest them under `error`.
        const fields = isObject(parsed.error) ? parsed : { error: { message: parsed.message, code: parsed.code, param: parsed.param } };
        return errorStep(carriedError(fields, 500, 'the provider reported an error in the stream'));
      }
      case 'response.failed': {
        const response = isObject(parsed.response) ? parsed.response : {};
        this.#response = response;
        return errorStep(failedResponseError(response));
      }
      case 'response.completed':
      case 'response.incomplete': {
        const response = isObject(parsed.response) ? parsed.response : undefined;
        this.completed = response;
        const step = this.#pass(data, name, false);
        step.finished = true;
        const usage = responseUsage(response);
        if (usage) step.usage = usage;
        return step;
      }
      case 'response.created':
      case 'response.in_progress':
      case 'response.queued':
        if (isObject(parsed.response)) this.#response = parsed.response;
        break;
    }
    let content = false;
    if (!this.#committed) {
      content = CONTENT_EVENTS.has(type) || (type === 'response.output_item.added' && isObject(parsed.item) && parsed.item.type === 'function_call');
      if (content) this.#committed = true;
    }
    return this.#pass(data, name, content);
  }

  #pass(data: string, name: string | undefined, content: boolean): StreamStep {
    const seq = sequenceNumberOf(data);
    this.#lastSeq = seq ?? this.#lastSeq + 1;
    // A server that names no event gets none added: the data carries its type.
    return { out: [name === undefined ? `data: ${data}\n\n` : `event: ${name}\ndata: ${data}\n\n`], content, finished: false };
  }

  #error(e: StreamErrorFields): string {
    return streamErrorFrames(e, this.#lastSeq + 1, this.#response);
  }
}

/** A ProviderAdapter whose stream decoder is a ResponsesStreamDecoder. */
export interface ResponsesCodec extends ProviderAdapter {
  createStreamDecoder(target: ProviderTarget, request: Record<string, unknown>): ResponsesStreamDecoder;
}

/** The native Responses codec of an OpenAI-shaped target. */
export function responsesNative(family: ResponsesFamily): ResponsesCodec {
  return {
    name: family,
    buildRequest: (kind, body, target, options) => buildRequest(family, kind, body, target, options.stream),
    parseResponse: (_kind, _status, text) => parseResponse(text),
    parseError: parseOpenAIError,
    createStreamDecoder: () => new NativeResponsesDecoder(),
  };
}
