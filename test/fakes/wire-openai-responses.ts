/**
 * OpenAI's Responses API wire format (POST /v1/responses and the stored
 * response endpoints), as the fake provider speaks it: the Response object,
 * the full event stream (lifecycle, reasoning summary, message text,
 * function calls, `sequence_number` from 0), the stream's error end, and the
 * validation and 4xx bodies of the real API.
 */
import { randomHex, type ErrorSpec, type ReplyContext, type StreamFrames, type WireError } from './wire-common.ts';

type Json = Record<string, unknown>;

export function responseId(): string {
  return 'resp_' + randomHex(48);
}
export function messageItemId(): string {
  return 'msg_' + randomHex(48);
}
export function functionCallItemId(): string {
  return 'fc_' + randomHex(48);
}
export function reasoningItemId(): string {
  return 'rs_' + randomHex(48);
}

/** What a Responses reply needs beyond the shared ReplyContext. */
export interface ResponsesReply {
  ctx: ReplyContext;
  /** The request body, for the echoed fields. */
  request: Json;
  id: string;
  messageId: string;
  functionCallId: string;
  reasoningId: string;
  /** A reasoning summary comes first when the request asked for one (`reasoning.summary`). */
  reasoningSummary: string | undefined;
}

function errorJson(message: string, type: string, param: string | null, code: string | number | null): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

function invalid(message: string, param: string | null, code: string | null): WireError {
  return { status: 400, body: errorJson(message, 'invalid_request_error', param, code) };
}

function incompleteReason(finishReason: string | undefined): string | undefined {
  if (finishReason === 'length' || finishReason === 'max_output_tokens') return 'max_output_tokens';
  if (finishReason === 'content_filter') return 'content_filter';
  return undefined;
}

function usage(ctx: ReplyContext, reasoningTokens: number): Json {
  return {
    input_tokens: ctx.promptTokens,
    input_tokens_details: { cached_tokens: ctx.cacheReadTokens ?? 0 },
    output_tokens: ctx.completionTokens + reasoningTokens,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: ctx.promptTokens + ctx.completionTokens + reasoningTokens,
  };
}

function echo(request: Json, key: string, fallback: unknown): unknown {
  const v = request[key];
  return v === undefined ? fallback : v;
}

/** The Response object; `output` as given, status and usage as the state says. */
function responseJson(r: ResponsesReply, status: string, output: Json[], withUsage: boolean, error: Json | null = null): Json {
  const reason = status === 'incomplete' ? incompleteReason(r.ctx.finishReason) : undefined;
  const req = r.request;
  const reasoning = req['reasoning'] as Json | undefined;
  const text = req['text'] as Json | undefined;
  const tools = Array.isArray(req['tools'])
    ? (req['tools'] as Json[]).map((t) => (t['type'] === 'function' ? { strict: true, description: null, ...t } : t))
    : [];
  return {
    id: r.id,
    object: 'response',
    created_at: r.ctx.created,
    status,
    background: false,
    error,
    incomplete_details: reason ? { reason } : null,
    instructions: echo(req, 'instructions', null),
    max_output_tokens: echo(req, 'max_output_tokens', null),
    max_tool_calls: echo(req, 'max_tool_calls', null),
    model: r.ctx.model,
    output,
    parallel_tool_calls: echo(req, 'parallel_tool_calls', true),
    previous_response_id: echo(req, 'previous_response_id', null),
    prompt_cache_key: echo(req, 'prompt_cache_key', null),
    reasoning: { effort: reasoning?.['effort'] ?? null, summary: reasoning?.['summary'] ?? null },
    safety_identifier: echo(req, 'safety_identifier', null),
    service_tier: 'default',
    store: echo(req, 'store', true),
    temperature: echo(req, 'temperature', 1),
    text: { format: { type: 'text' }, verbosity: 'medium', ...text },
    tool_choice: echo(req, 'tool_choice', 'auto'),
    tools,
    top_logprobs: echo(req, 'top_logprobs', 0),
    top_p: echo(req, 'top_p', 1),
    truncation: echo(req, 'truncation', 'disabled'),
    usage: withUsage ? usage(r.ctx, r.reasoningSummary ? 8 : 0) : null,
    user: echo(req, 'user', null),
    metadata: echo(req, 'metadata', {}),
  };
}

function status(r: ResponsesReply): 'completed' | 'incomplete' {
  return incompleteReason(r.ctx.finishReason) ? 'incomplete' : 'completed';
}

function reasoningItem(r: ResponsesReply, text: string): Json {
  return { id: r.reasoningId, type: 'reasoning', summary: [{ type: 'summary_text', text }] };
}
function textPart(text: string): Json {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}
function messageItem(r: ResponsesReply, itemStatus: string, content: Json[]): Json {
  return { id: r.messageId, type: 'message', status: itemStatus, content, role: 'assistant' };
}
function callItem(r: ResponsesReply, itemStatus: string, args: string): Json {
  const tc = r.ctx.toolCall!;
  return { id: r.functionCallId, type: 'function_call', status: itemStatus, arguments: args, call_id: tc.id, name: tc.name };
}

/** The output items of the whole reply. */
export function outputItems(r: ResponsesReply): Json[] {
  const out: Json[] = [];
  if (r.reasoningSummary) out.push(reasoningItem(r, r.reasoningSummary));
  if (r.ctx.text !== '' || !r.ctx.toolCall) out.push(messageItem(r, status(r), [textPart(r.ctx.text)]));
  if (r.ctx.toolCall) out.push(callItem(r, 'completed', r.ctx.toolCall.arguments));
  return out;
}

/** The whole (non-stream) Response object. */
export function responseObject(r: ResponsesReply): Json {
  return responseJson(r, status(r), outputItems(r), true);
}

export function responseBody(r: ResponsesReply): string {
  return JSON.stringify(responseObject(r));
}

/** A stream rendered as frames, and the error end after K content chunks. */
export interface ResponsesFrames extends StreamFrames {
  /** `error` then `response.failed`, numbered to follow the first `afterChunks` content chunks. */
  errorAfter(afterChunks: number, spec: ErrorSpec): string;
}

/** The reply as the real API streams it. */
export function responseFrames(r: ResponsesReply): ResponsesFrames {
  let seq = 0;
  const ev = (type: string, fields: Json): string => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`;
  const ctx = r.ctx;
  const inProgress = responseJson(r, 'in_progress', [], false);
  let pre = ev('response.created', { response: inProgress }) + ev('response.in_progress', { response: inProgress });
  let index = 0;
  const done: Json[] = [];

  if (r.reasoningSummary) {
    const at = { item_id: r.reasoningId, output_index: index, summary_index: 0 };
    pre += ev('response.output_item.added', { output_index: index, item: { id: r.reasoningId, type: 'reasoning', summary: [] } });
    pre += ev('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } });
    pre += ev('response.reasoning_summary_text.delta', { ...at, delta: r.reasoningSummary, obfuscation: 'x' });
    pre += ev('response.reasoning_summary_text.done', { ...at, text: r.reasoningSummary });
    pre += ev('response.reasoning_summary_part.done', { ...at, part: { type: 'summary_text', text: r.reasoningSummary } });
    done.push(reasoningItem(r, r.reasoningSummary));
    pre += ev('response.output_item.done', { output_index: index, item: done[done.length - 1] });
    index++;
  }

  const content: string[] = [];
  /** sequence_number after the pre and each content chunk. */
  const seqAfter: number[] = [];
  const hasText = ctx.text !== '' || !ctx.toolCall;
  let post = '';
  if (hasText) {
    const at = { item_id: r.messageId, output_index: index, content_index: 0 };
    pre += ev('response.output_item.added', { output_index: index, item: messageItem(r, 'in_progress', []) });
    pre += ev('response.content_part.added', { ...at, part: textPart('') });
    seqAfter.push(seq);
    for (const piece of ctx.pieces) {
      content.push(ev('response.output_text.delta', { ...at, delta: piece, logprobs: [], obfuscation: 'x' }));
      seqAfter.push(seq);
    }
    const closeText = ev('response.output_text.done', { ...at, text: ctx.text, logprobs: [] }) + ev('response.content_part.done', { ...at, part: textPart(ctx.text) });
    done.push(messageItem(r, status(r), [textPart(ctx.text)]));
    const closeItem = ev('response.output_item.done', { output_index: index, item: done[done.length - 1] });
    index++;
    if (ctx.toolCall) {
      // The text item closes with its last chunk when a tool call follows.
      content[content.length - 1] += closeText + closeItem;
      seqAfter[seqAfter.length - 1] = seq;
    } else {
      post += closeText + closeItem;
    }
  } else {
    seqAfter.push(seq);
  }
  if (ctx.toolCall) {
    const at = { item_id: r.functionCallId, output_index: index };
    // The item's announcement travels with its first arguments delta: one content-bearing chunk.
    const first = ev('response.output_item.added', { output_index: index, item: callItem(r, 'in_progress', '') });
    const pieces = ctx.argPiecesEscaped.map((p) => JSON.parse(p) as string);
    pieces.forEach((piece, i) => {
      const delta = ev('response.function_call_arguments.delta', { ...at, delta: piece, obfuscation: 'x' });
      content.push(i === 0 ? first + delta : delta);
      seqAfter.push(seq);
    });
    done.push(callItem(r, 'completed', ctx.toolCall.arguments));
    post += ev('response.function_call_arguments.done', { ...at, arguments: ctx.toolCall.arguments, name: ctx.toolCall.name });
    post += ev('response.output_item.done', { output_index: index, item: done[done.length - 1] });
  }
  const st = status(r);
  post += ev(st === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: responseJson(r, st, done, true) });

  const errorAfter = (afterChunks: number, spec: ErrorSpec): string => {
    const k = Math.max(0, Math.min(afterChunks, content.length));
    const n = seqAfter[k] ?? seq;
    const message = spec.message ?? 'The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error.';
    const code = spec.code !== undefined ? spec.code : 'server_error';
    const error = `event: error\ndata: ${JSON.stringify({ type: 'error', sequence_number: n, code, message, param: spec.param ?? null })}\n\n`;
    const failed = responseJson(r, 'failed', [], true, { code: code === 'rate_limit_exceeded' ? code : 'server_error', message });
    return error + `event: response.failed\ndata: ${JSON.stringify({ type: 'response.failed', sequence_number: n + 1, response: failed })}\n\n`;
  };
  return { pre, content, post, errorAfter };
}

// ------------------------------------------------------------ validation

const ROLES = new Set(['user', 'assistant', 'system', 'developer']);
const ITEM_TYPES = [
  'message',
  'function_call',
  'function_call_output',
  'reasoning',
  'item_reference',
  'file_search_call',
  'web_search_call',
  'computer_call',
  'computer_call_output',
  'image_generation_call',
  'code_interpreter_call',
  'local_shell_call',
  'local_shell_call_output',
  'mcp_list_tools',
  'mcp_approval_request',
  'mcp_approval_response',
  'mcp_call',
  'custom_tool_call',
  'custom_tool_call_output',
];
const ITEM_TYPE_SET = new Set(ITEM_TYPES);

function quotedList(values: string[]): string {
  const q = values.map((v) => `'${v}'`);
  return q.length > 1 ? `${q.slice(0, -1).join(', ')}, and ${q[q.length - 1]}` : (q[0] ?? '');
}

/** The call ids of the function_call items among `items`. */
export function callIdsOf(items: unknown): Set<string> {
  const ids = new Set<string>();
  if (!Array.isArray(items)) return ids;
  for (const it of items) {
    if (it && typeof it === 'object' && (it as Json)['type'] === 'function_call' && typeof (it as Json)['call_id'] === 'string') ids.add((it as Json)['call_id'] as string);
  }
  return ids;
}

/**
 * What the real API refuses in a request body. `previousCallIds` are the
 * call ids of the previous response's function calls (a
 * function_call_output may answer one of them).
 */
export function validateResponses(body: Json, azure: boolean, previousCallIds: Set<string>): WireError | undefined {
  if (!azure && typeof body['model'] !== 'string') return invalid("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  const input = body['input'];
  if (input !== undefined && typeof input !== 'string' && !Array.isArray(input)) {
    return invalid(`Invalid type for 'input': expected one of a string or array of input items, but got ${input === null ? 'null' : typeof input} instead.`, 'input', 'invalid_type');
  }
  if (Array.isArray(body['tools'])) {
    const tools = body['tools'] as unknown[];
    for (let i = 0; i < tools.length; i++) {
      const t = tools[i] as Json | null;
      if (t && t['type'] === 'function' && typeof t['name'] !== 'string') return invalid(`Missing required parameter: 'tools[${i}].name'.`, `tools[${i}].name`, 'missing_required_parameter');
      if (t && t['type'] === 'function' && t['function'] !== undefined) return invalid(`Unknown parameter: 'tools[${i}].function'.`, `tools[${i}].function`, 'unknown_parameter');
    }
  }
  if (!Array.isArray(input)) return undefined;
  const callIds = new Set([...previousCallIds, ...callIdsOf(input)]);
  for (let i = 0; i < input.length; i++) {
    const item = input[i] as unknown;
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      return invalid(`Invalid type for 'input[${i}]': expected an input item, but got ${Array.isArray(item) ? 'an array' : typeof item} instead.`, `input[${i}]`, 'invalid_type');
    }
    const it = item as Json;
    const type = it['type'] === undefined && typeof it['role'] === 'string' ? 'message' : it['type'];
    if (typeof type !== 'string' || !ITEM_TYPE_SET.has(type)) {
      return invalid(`Invalid value: '${String(type)}'. Supported values are: ${quotedList(ITEM_TYPES)}.`, `input[${i}].type`, 'invalid_value');
    }
    if (type === 'message') {
      if (typeof it['role'] !== 'string' || !ROLES.has(it['role'])) {
        return invalid(`Invalid value: '${String(it['role'])}'. Supported values are: 'assistant', 'system', 'developer', and 'user'.`, `input[${i}].role`, 'invalid_value');
      }
      const c = it['content'];
      if (typeof c !== 'string' && !Array.isArray(c)) return invalid(`Missing required parameter: 'input[${i}].content'.`, `input[${i}].content`, 'missing_required_parameter');
    } else if (type === 'function_call') {
      for (const k of ['call_id', 'name', 'arguments']) {
        if (typeof it[k] !== 'string') return invalid(`Missing required parameter: 'input[${i}].${k}'.`, `input[${i}].${k}`, 'missing_required_parameter');
      }
    } else if (type === 'function_call_output') {
      const callId = it['call_id'];
      if (typeof callId !== 'string') return invalid(`Missing required parameter: 'input[${i}].call_id'.`, `input[${i}].call_id`, 'missing_required_parameter');
      if (it['output'] === undefined) return invalid(`Missing required parameter: 'input[${i}].output'.`, `input[${i}].output`, 'missing_required_parameter');
      if (!callIds.has(callId)) return invalid(`No tool call found for function call output with call_id ${callId}.`, 'input', null);
    } else if (type === 'item_reference' && typeof it['id'] !== 'string') {
      return invalid(`Missing required parameter: 'input[${i}].id'.`, `input[${i}].id`, 'missing_required_parameter');
    }
  }
  return undefined;
}

// ------------------------------------------------------------ stored responses

export function previousNotFound(id: string): WireError {
  return invalid(`Previous response with id '${id}' not found.`, 'previous_response_id', 'previous_response_not_found');
}

export function responseNotFound(id: string): WireError {
  return { status: 404, body: errorJson(`Response with id '${id}' not found.`, 'invalid_request_error', null, null) };
}

export function deletedBody(id: string): string {
  return JSON.stringify({ id, object: 'response.deleted', deleted: true });
}

/** A background response's state: the Response object as GET sees it in each. */
export type BackgroundStatus = 'queued' | 'in_progress' | 'completed' | 'cancelled';

/** The Response object of a background response (`background: true`): no output until it completes. */
export function backgroundObject(r: ResponsesReply, st: BackgroundStatus): Json {
  const body = st === 'completed' ? responseObject(r) : responseJson(r, st, [], false);
  return { ...body, background: true };
}

/** The events of a background response resumed as a stream (GET …?stream=true): the whole reply's, marked background. */
export function backgroundFrames(r: ResponsesReply): string {
  const f = responseFrames(r);
  return (f.pre + f.content.join('') + f.post).replaceAll('"background":false', '"background":true');
}

/** Cancelling a background response that has already finished. */
export function cannotCancelFinished(st: BackgroundStatus): WireError {
  return invalid(st === 'cancelled' ? 'Cannot cancel a response that has already been cancelled.' : 'Cannot cancel a completed response.', null, null);
}

export function notCancellable(): WireError {
  return invalid('Only responses created with background=true can be cancelled.', null, null);
}

/** The input_items list (newest first unless `order=asc`; `after`, `limit` as the API takes them). */
export function inputItemsBody(items: Json[], query: Record<string, string>): string {
  const all = query['order'] === 'asc' ? items.slice() : items.slice().reverse();
  const limit = Math.min(100, Math.max(1, Number(query['limit'] ?? 20) || 20));
  let from = 0;
  if (query['after'] !== undefined) {
    const at = all.findIndex((i) => i['id'] === query['after']);
    from = at < 0 ? all.length : at + 1;
  }
  const data = all.slice(from, from + limit);
  return JSON.stringify({
    object: 'list',
    data,
    first_id: data[0]?.['id'] ?? null,
    last_id: data[data.length - 1]?.['id'] ?? null,
    has_more: from + limit < all.length,
  });
}

/** The request's input as the API stores it: every item with an id, messages with their content as parts. */
export function storedInputItems(input: unknown): Json[] {
  const items: unknown[] = typeof input === 'string' ? [{ role: 'user', content: input }] : Array.isArray(input) ? input : [];
  return items.map((raw) => {
    const it = raw as Json;
    const type = it['type'] === undefined && typeof it['role'] === 'string' ? 'message' : (it['type'] as string);
    if (type === 'message') {
      const role = it['role'] as string;
      const content = typeof it['content'] === 'string' ? [{ type: role === 'assistant' ? 'output_text' : 'input_text', text: it['content'] }] : it['content'];
      return { id: typeof it['id'] === 'string' ? it['id'] : messageItemId(), type: 'message', role, status: 'completed', content };
    }
    return { id: typeof it['id'] === 'string' ? it['id'] : (type === 'function_call' ? 'fc_' : type === 'function_call_output' ? 'fco_' : 'item_') + randomHex(48), ...it };
  });
}
