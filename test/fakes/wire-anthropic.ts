/**
 * Anthropic's wire format (Messages API, its SSE events, errors).
 */
import { randomAlnum, type ErrorSpec, type ReplyContext, type StreamFrames, type WireError } from './wire-common.ts';

export function messageId(): string {
  return 'msg_01' + randomAlnum(22);
}

export function toolUseId(): string {
  return 'toolu_01' + randomAlnum(22);
}

export function requestId(): string {
  return 'req_011C' + randomAlnum(20);
}

function stopReason(ctx: ReplyContext): string {
  return ctx.finishReason ?? (ctx.toolCall ? 'tool_use' : 'end_turn');
}

/** A thinking signature (opaque to clients; the fake keeps the ones it issued). */
export function thinkingSignature(): string {
  return 'EqQBCgIYAh' + randomAlnum(40);
}

/** Usage as Anthropic counts it: input_tokens without the cached prompt tokens, which are reported apart. */
function usageJson(ctx: ReplyContext, output: number): string {
  const read = ctx.cacheReadTokens ?? 0;
  const created = ctx.cacheCreationTokens ?? 0;
  const input = Math.max(0, ctx.promptTokens - read - created);
  return (
    '{"input_tokens":' + input + ',"cache_creation_input_tokens":' + created + ',"cache_read_input_tokens":' + read + ',"output_tokens":' + output + ',"service_tier":"standard"}'
  );
}

/** A non-stream message. */
export function messageBody(ctx: ReplyContext): string {
  const content: unknown[] = [];
  if (ctx.thinking) content.push({ type: 'thinking', thinking: ctx.thinking, signature: ctx.signature ?? thinkingSignature() });
  if (ctx.text !== '' || !ctx.toolCall) content.push({ type: 'text', text: ctx.text });
  if (ctx.toolCall) content.push({ type: 'tool_use', id: ctx.toolCall.id, name: ctx.toolCall.name, input: JSON.parse(ctx.toolCall.arguments) });
  return (
    '{"id":"' +
    ctx.id +
    '","type":"message","role":"assistant","model":' +
    ctx.modelJson +
    ',"content":' +
    JSON.stringify(content) +
    ',"stop_reason":"' +
    stopReason(ctx) +
    '","stop_sequence":null,"usage":' +
    usageJson(ctx, ctx.completionTokens) +
    '}'
  );
}

function ev(name: string, data: string): string {
  return 'event: ' + name + '\ndata: ' + data + '\n\n';
}

/** A message as SSE events. */
export function messageFrames(ctx: ReplyContext): StreamFrames {
  const hasText = ctx.escaped.length > 0;
  // A thinking block comes first (index 0) when asked for; the other blocks follow it.
  const base = ctx.thinking ? 1 : 0;
  let pre = ev(
    'message_start',
    '{"type":"message_start","message":{"id":"' +
      ctx.id +
      '","type":"message","role":"assistant","model":' +
      ctx.modelJson +
      ',"content":[],"stop_reason":null,"stop_sequence":null,"usage":' +
      usageJson(ctx, 1) +
      '}}',
  );
  const toolStart = (index: number): string =>
    ev(
      'content_block_start',
      '{"type":"content_block_start","index":' +
        index +
        ',"content_block":{"type":"tool_use","id":"' +
        ctx.toolCall?.id +
        '","name":' +
        JSON.stringify(ctx.toolCall?.name) +
        ',"input":{}}}',
    );
  if (ctx.thinking) pre += thinkingFrames(ctx.thinking, ctx.signature ?? thinkingSignature());
  if (hasText) pre += ev('content_block_start', '{"type":"content_block_start","index":' + base + ',"content_block":{"type":"text","text":""}}');
  else pre += toolStart(base);
  pre += ev('ping', '{"type": "ping"}');

  const content: string[] = [];
  for (const piece of ctx.escaped) {
    content.push(ev('content_block_delta', '{"type":"content_block_delta","index":' + base + ',"delta":{"type":"text_delta","text":' + piece + '}}'));
  }
  let lastIndex = base;
  if (ctx.toolCall) {
    const index = base + (hasText ? 1 : 0);
    lastIndex = index;
    let first = true;
    for (const piece of ctx.argPiecesEscaped) {
      let frame = '';
      if (first && hasText) frame += ev('content_block_stop', '{"type":"content_block_stop","index":' + base + '}') + toolStart(index);
      first = false;
      frame += ev('content_block_delta', '{"type":"content_block_delta","index":' + index + ',"delta":{"type":"input_json_delta","partial_json":' + piece + '}}');
      content.push(frame);
    }
  }
  const post =
    ev('content_block_stop', '{"type":"content_block_stop","index":' + lastIndex + '}') +
    ev(
      'message_delta',
      '{"type":"message_delta","delta":{"stop_reason":"' + stopReason(ctx) + '","stop_sequence":null},"usage":{"output_tokens":' + ctx.completionTokens + '}}',
    ) +
    ev('message_stop', '{"type":"message_stop"}');
  return { pre, content, post };
}

/** A thinking block as stream events (index 0): the thought in two deltas, then its signature. */
function thinkingFrames(thinking: string, signature: string): string {
  const half = Math.ceil(thinking.length / 2);
  const delta = (d: string): string => ev('content_block_delta', '{"type":"content_block_delta","index":0,"delta":' + d + '}');
  return (
    ev('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}') +
    delta('{"type":"thinking_delta","thinking":' + JSON.stringify(thinking.slice(0, half)) + '}') +
    delta('{"type":"thinking_delta","thinking":' + JSON.stringify(thinking.slice(half)) + '}') +
    delta('{"type":"signature_delta","signature":' + JSON.stringify(signature) + '}') +
    ev('content_block_stop', '{"type":"content_block_stop","index":0}')
  );
}

/** The error type Anthropic uses for a status. */
export function errorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 409:
      return 'conflict_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

function defaultMessage(type: string, model: string): string {
  switch (type) {
    case 'invalid_request_error':
      return 'Invalid request';
    case 'authentication_error':
      return 'invalid x-api-key';
    case 'billing_error':
      return 'Billing error';
    case 'permission_error':
      return 'Your API key does not have permission to use the specified resource.';
    case 'not_found_error':
      return `model: ${model}`;
    case 'conflict_error':
      return 'Conflict';
    case 'request_too_large':
      return 'Request exceeds the maximum allowed number of bytes.';
    case 'rate_limit_error':
      return (
        'This request would exceed the rate limit for your organization of 50 requests per minute. ' +
        'For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. ' +
        'Please reduce the prompt length or the maximum tokens requested, or try again later.'
      );
    case 'timeout_error':
      return 'Request timeout';
    case 'overloaded_error':
      return 'Overloaded';
    default:
      return 'Internal server error';
  }
}

function errorJson(type: string, message: string, withRequestId: boolean): string {
  return JSON.stringify(
    withRequestId ? { type: 'error', error: { type, message }, request_id: requestId() } : { type: 'error', error: { type, message } },
  );
}

export function errorBody(status: number, spec: ErrorSpec, model: string): string {
  const type = spec.type ?? errorType(status);
  return errorJson(type, spec.message ?? defaultMessage(type, model), true);
}

/** The in-stream `event: error`. */
export function streamErrorFrame(spec: ErrorSpec): string {
  const type = spec.type ?? 'overloaded_error';
  return ev('error', errorJson(type, spec.message ?? defaultMessage(type, ''), false));
}

export function contextWindowError(promptTokens: number): WireError {
  const limit = 200000;
  const asked = Math.max(limit + 1, promptTokens);
  return { status: 400, body: errorJson('invalid_request_error', `prompt is too long: ${asked} tokens > ${limit} maximum`, true) };
}

export function quotaError(): WireError {
  return {
    status: 400,
    body: errorJson(
      'invalid_request_error',
      'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
      true,
    ),
  };
}

export function authError(given: string | undefined): WireError {
  return {
    status: 401,
    body: errorJson('authentication_error', given ? 'invalid x-api-key' : 'x-api-key header is required', true),
  };
}

export function missingVersion(): WireError {
  return { status: 400, body: errorJson('invalid_request_error', 'anthropic-version: header is required', true) };
}

export function notFound(): WireError {
  return { status: 404, body: errorJson('not_found_error', 'Not Found', true) };
}

export function badJSON(): WireError {
  return { status: 400, body: errorJson('invalid_request_error', 'There was an error parsing the body of your request: it is not valid JSON', true) };
}

/** The request's validation error, if any. */
export function validate(body: Record<string, unknown>): WireError | undefined {
  const bad = (message: string): WireError => ({ status: 400, body: errorJson('invalid_request_error', message, true) });
  if (typeof body['model'] !== 'string') return bad('model: Field required');
  if (!Array.isArray(body['messages'])) return bad('messages: Field required');
  if (typeof body['max_tokens'] !== 'number') return bad('max_tokens: Field required');
  for (const [i, m] of (body['messages'] as unknown[]).entries()) {
    const role = (m as { role?: unknown } | null)?.role;
    if (role === 'system') {
      return bad(`messages: Unexpected role "system". The Messages API accepts a top-level \`system\` parameter, not "system" as an input message role.`);
    }
    if (role !== 'user' && role !== 'assistant') return bad(`messages.${i}.role: Input should be 'user' or 'assistant'`);
  }
  const e = validateConversation(body['messages'] as Array<Record<string, unknown>>) ?? validateParameters(body);
  return e ? bad(e) : undefined;
}

// ------------------------------------------------- what the real API refuses

/** What the fake knows of a model: its output limit and which features it takes (Anthropic's model docs). */
export interface ModelFacts {
  maxOutput: number;
  /** Extended thinking: `budget` (type enabled), `adaptive` (type adaptive only), `both`, `none`. */
  thinking: 'none' | 'budget' | 'adaptive' | 'both';
  /** output_config.format. */
  structuredOutputs: boolean;
  /** output_config.effort. */
  effort: boolean;
  /** temperature, top_p, top_k: "`temperature` is deprecated for this model." (Anthropic's wording). */
  samplingDeprecated: boolean;
  /** temperature and top_p together are refused. */
  oneSampler: boolean;
}

/** Most specific first: the first name part a model contains decides. */
const MODELS: Array<[string, ModelFacts]> = [
  ['claude-opus-5', { maxOutput: 128000, thinking: 'adaptive', structuredOutputs: true, effort: true, samplingDeprecated: true, oneSampler: true }],
  ['claude-sonnet-5', { maxOutput: 64000, thinking: 'adaptive', structuredOutputs: true, effort: true, samplingDeprecated: true, oneSampler: true }],
  ['claude-opus-4-7', { maxOutput: 128000, thinking: 'adaptive', structuredOutputs: true, effort: true, samplingDeprecated: true, oneSampler: true }],
  ['claude-opus-4-6', { maxOutput: 128000, thinking: 'both', structuredOutputs: true, effort: true, samplingDeprecated: false, oneSampler: true }],
  ['claude-sonnet-4-6', { maxOutput: 64000, thinking: 'both', structuredOutputs: true, effort: true, samplingDeprecated: false, oneSampler: true }],
  ['claude-opus-4-5', { maxOutput: 64000, thinking: 'budget', structuredOutputs: true, effort: true, samplingDeprecated: false, oneSampler: true }],
  ['claude-sonnet-4-5', { maxOutput: 64000, thinking: 'budget', structuredOutputs: true, effort: false, samplingDeprecated: false, oneSampler: true }],
  ['claude-haiku-4-5', { maxOutput: 64000, thinking: 'budget', structuredOutputs: true, effort: false, samplingDeprecated: false, oneSampler: true }],
  ['claude-opus-4-1', { maxOutput: 32000, thinking: 'budget', structuredOutputs: false, effort: false, samplingDeprecated: false, oneSampler: true }],
  ['claude-opus-4', { maxOutput: 32000, thinking: 'budget', structuredOutputs: false, effort: false, samplingDeprecated: false, oneSampler: false }],
  ['claude-sonnet-4', { maxOutput: 64000, thinking: 'budget', structuredOutputs: false, effort: false, samplingDeprecated: false, oneSampler: false }],
  ['claude-3-7-sonnet', { maxOutput: 64000, thinking: 'budget', structuredOutputs: false, effort: false, samplingDeprecated: false, oneSampler: false }],
  ['claude-3-5-', { maxOutput: 8192, thinking: 'none', structuredOutputs: false, effort: false, samplingDeprecated: false, oneSampler: false }],
  ['claude-3-', { maxOutput: 4096, thinking: 'none', structuredOutputs: false, effort: false, samplingDeprecated: false, oneSampler: false }],
];

/** The facts of a model name; undefined for names the fake does not know (then no model-specific check is made). */
export function modelFacts(model: string): ModelFacts | undefined {
  for (const [part, facts] of MODELS) if (model.includes(part)) return facts;
  return undefined;
}

function isBlank(s: string): boolean {
  return s.trim() === '';
}

/** The ids of a message's blocks of one type (tool_use ids, tool_result tool_use_ids). */
function blockIds(content: unknown, type: string, key: string): string[] {
  if (!Array.isArray(content)) return [];
  return content.filter((b) => b && typeof b === 'object' && (b as Record<string, unknown>)['type'] === type).map((b) => String((b as Record<string, unknown>)[key]));
}

/** The rules on `messages` the real API enforces (first turn, alternation, empty content, whitespace, tool pairing). */
function validateConversation(messages: Array<Record<string, unknown>>): string | undefined {
  if (messages.length === 0) return 'messages: at least one message is required';
  if (messages[0]!['role'] !== 'user') return 'messages: first message must use the "user" role';
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const last = i === messages.length - 1;
    if (i > 0 && m['role'] === messages[i - 1]!['role']) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${String(m['role'])}" roles in a row`;
    }
    const content = m['content'];
    const finalAssistant = last && m['role'] === 'assistant';
    if ((content === '' || (Array.isArray(content) && content.length === 0)) && !finalAssistant) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    const texts = typeof content === 'string' ? [content] : Array.isArray(content) ? content.filter((b) => b?.type === 'text').map((b) => String(b.text ?? '')) : [];
    for (const [j, t] of texts.entries()) {
      if (t === '' && typeof content !== 'string') return `messages.${i}.content.${j}.text: text content blocks must be non-empty`;
      if (t !== '' && isBlank(t)) return 'messages: text content blocks must contain non-whitespace text';
    }
    if (finalAssistant && texts.length && /\s$/.test(texts[texts.length - 1]!)) return 'messages: final assistant content cannot end with trailing whitespace';
    if (m['role'] === 'user' && i > 0) {
      const uses = new Set(blockIds(messages[i - 1]!['content'], 'tool_use', 'id'));
      for (const id of blockIds(content, 'tool_result', 'tool_use_id')) {
        if (!uses.has(id)) {
          return `messages.${i}.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
        }
      }
    }
    if (m['role'] === 'assistant' && !last) {
      const results = new Set(blockIds(messages[i + 1]!['content'], 'tool_result', 'tool_use_id'));
      const missing = blockIds(content, 'tool_use', 'id').filter((id) => !results.has(id));
      if (missing.length) {
        return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
      }
    }
  }
  return undefined;
}

/** JSON Schema keywords structured outputs refuse. */
const REFUSED_SCHEMA_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties'];

function schemaProblem(schema: unknown, depth = 0): string | undefined {
  if (depth > 40 || schema === null || typeof schema !== 'object') return undefined;
  if (Array.isArray(schema)) {
    for (const s of schema) {
      const p = schemaProblem(s, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  const o = schema as Record<string, unknown>;
  const type = String(o['type'] ?? '');
  for (const k of REFUSED_SCHEMA_KEYWORDS) if (k in o) return `For '${type}' type, property '${k}' is not supported`;
  if (type === 'object' && o['additionalProperties'] !== false) return "For 'object' type, 'additionalProperties' must be explicitly set to false";
  for (const [k, v] of Object.entries(o)) {
    if (k === 'enum' || k === 'const' || k === 'required' || k === 'default') continue;
    const p = schemaProblem(k === 'properties' || k === '$defs' ? Object.values(v as object) : v, depth + 1);
    if (p) return p;
  }
  return undefined;
}

/** The rules on parameters (stop sequences, sampling, max_tokens, thinking, output_config), per model where they depend on it. */
function validateParameters(body: Record<string, unknown>): string | undefined {
  const model = String(body['model']);
  const facts = modelFacts(model);
  const maxTokens = body['max_tokens'] as number;
  const stops = body['stop_sequences'];
  if (Array.isArray(stops) && stops.some((s) => typeof s !== 'string' || isBlank(s))) return 'stop_sequences: each stop sequence must contain non-whitespace';
  const temperature = body['temperature'];
  if (typeof temperature === 'number' && (temperature < 0 || temperature > 1)) return 'temperature: range: 0..1';
  if (facts && maxTokens > facts.maxOutput) return `max_tokens: ${maxTokens} > ${facts.maxOutput}, which is the maximum allowed number of output tokens for ${model}`;
  if (facts?.samplingDeprecated) {
    for (const p of ['temperature', 'top_p', 'top_k']) if (body[p] !== undefined) return `\`${p}\` is deprecated for this model.`;
  }
  if (facts?.oneSampler && body['temperature'] !== undefined && body['top_p'] !== undefined) {
    return '`temperature` and `top_p` cannot both be specified for this model. Please use only one.';
  }
  const thinking = body['thinking'] as Record<string, unknown> | undefined;
  const thinkingOn = thinking?.['type'] === 'enabled' || thinking?.['type'] === 'adaptive';
  if (thinking && facts) {
    if (thinking['type'] === 'enabled' && (facts.thinking === 'none' || facts.thinking === 'adaptive')) {
      return facts.thinking === 'adaptive'
        ? 'thinking.type.enabled is not supported for this model. Use thinking.type.adaptive and output_config.effort to control thinking behavior.'
        : `thinking: extended thinking is not supported by ${model}`;
    }
    if (thinking['type'] === 'adaptive' && facts.thinking !== 'adaptive' && facts.thinking !== 'both') return `thinking.type.adaptive is not supported for ${model}`;
  }
  if (thinking?.['type'] === 'enabled') {
    const budget = thinking['budget_tokens'];
    if (typeof budget !== 'number' || budget < 1024) return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024';
    if (maxTokens <= budget) {
      return '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size';
    }
  }
  if (thinkingOn) {
    if (temperature !== undefined && temperature !== 1) return '`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility';
    const topP = body['top_p'];
    if (typeof topP === 'number' && topP < 0.95) return '`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled.';
    if (body['top_k'] !== undefined) return '`top_k` must be unset when thinking is enabled.';
    const choice = (body['tool_choice'] as Record<string, unknown> | undefined)?.['type'];
    if (choice === 'any' || choice === 'tool') return 'Thinking may not be enabled when tool_choice forces tool use.';
    const messages = body['messages'] as Array<Record<string, unknown>>;
    if (messages[messages.length - 1]?.['role'] === 'assistant') {
      return 'messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.';
    }
  }
  const config = body['output_config'] as Record<string, unknown> | undefined;
  if (config?.['format'] !== undefined) {
    if (facts && !facts.structuredOutputs) return `output_config.format: structured outputs are not supported for ${model}`;
    const problem = schemaProblem((config['format'] as Record<string, unknown>)?.['schema']);
    if (problem) return `output_config.format.schema: ${problem}`;
  }
  if (config?.['effort'] !== undefined && facts && !facts.effort) return `output_config.effort: effort is not supported for ${model}`;
  return undefined;
}

/**
 * A thinking block whose signature the fake did not issue (edited, or from
 * another model): the real API checks signatures and refuses it.
 */
export function invalidSignature(body: Record<string, unknown>, issued: ReadonlySet<string>): WireError | undefined {
  const messages = Array.isArray(body['messages']) ? (body['messages'] as Array<Record<string, unknown>>) : [];
  for (const [i, m] of messages.entries()) {
    if (m?.['role'] !== 'assistant' || !Array.isArray(m['content'])) continue;
    for (const [j, b] of (m['content'] as Array<Record<string, unknown>>).entries()) {
      if (b?.['type'] === 'thinking' && !issued.has(String(b['signature'] ?? ''))) {
        return { status: 400, body: errorJson('invalid_request_error', `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`, true) };
      }
    }
  }
  return undefined;
}

/**
 * The prompt prefix a request marks for caching: everything (tools, then
 * system, then messages, as Anthropic orders the prompt) up to and including
 * the last block with cache_control; undefined when nothing is marked.
 */
export function cachedPrefix(body: Record<string, unknown>): unknown[] | undefined {
  const parts: unknown[] = [];
  let end = 0;
  const add = (b: unknown): void => {
    parts.push(b);
    if (b && typeof b === 'object' && (b as Record<string, unknown>)['cache_control']) end = parts.length;
  };
  if (Array.isArray(body['tools'])) (body['tools'] as unknown[]).forEach(add);
  if (Array.isArray(body['system'])) (body['system'] as unknown[]).forEach(add);
  else if (body['system'] !== undefined) parts.push(body['system']);
  for (const m of Array.isArray(body['messages']) ? (body['messages'] as Array<Record<string, unknown>>) : []) {
    if (Array.isArray(m?.['content'])) (m['content'] as unknown[]).forEach(add);
    else parts.push(m?.['content']);
  }
  return end === 0 ? undefined : parts.slice(0, end);
}

/** POST /v1/messages/count_tokens: what the real API requires and refuses (it takes no max_tokens or stream). */
export function validateCountTokens(body: Record<string, unknown>): WireError | undefined {
  const bad = (message: string): WireError => ({ status: 400, body: errorJson('invalid_request_error', message, true) });
  if (typeof body['model'] !== 'string') return bad('model: Field required');
  if (!Array.isArray(body['messages'])) return bad('messages: Field required');
  for (const extra of ['max_tokens', 'stream']) if (extra in body) return bad(`${extra}: Extra inputs are not permitted`);
  const e = validateConversation(body['messages'] as Array<Record<string, unknown>>);
  return e ? bad(e) : undefined;
}

export function countTokensBody(inputTokens: number): string {
  return '{"input_tokens":' + inputTokens + '}';
}

/** The models list. */
export function modelsBody(models: string[]): string {
  return JSON.stringify({
    data: models.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-09-29T00:00:00Z' })),
    has_more: false,
    first_id: models[0] ?? null,
    last_id: models[models.length - 1] ?? null,
  });
}

