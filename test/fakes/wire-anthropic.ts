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

function usageJson(input: number, output: number): string {
  return (
    '{"input_tokens":' + input + ',"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":' + output + ',"service_tier":"standard"}'
  );
}

/** A non-stream message. */
export function messageBody(ctx: ReplyContext): string {
  const content: unknown[] = [];
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
    usageJson(ctx.promptTokens, ctx.completionTokens) +
    '}'
  );
}

function ev(name: string, data: string): string {
  return 'event: ' + name + '\ndata: ' + data + '\n\n';
}

/** A message as SSE events. */
export function messageFrames(ctx: ReplyContext): StreamFrames {
  const hasText = ctx.escaped.length > 0;
  let pre = ev(
    'message_start',
    '{"type":"message_start","message":{"id":"' +
      ctx.id +
      '","type":"message","role":"assistant","model":' +
      ctx.modelJson +
      ',"content":[],"stop_reason":null,"stop_sequence":null,"usage":' +
      usageJson(ctx.promptTokens, 1) +
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
  if (hasText) pre += ev('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}');
  else pre += toolStart(0);
  pre += ev('ping', '{"type": "ping"}');

  const content: string[] = [];
  for (const piece of ctx.escaped) {
    content.push(ev('content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":' + piece + '}}'));
  }
  let lastIndex = 0;
  if (ctx.toolCall) {
    const index = hasText ? 1 : 0;
    lastIndex = index;
    let first = true;
    for (const piece of ctx.argPiecesEscaped) {
      let frame = '';
      if (first && hasText) frame += ev('content_block_stop', '{"type":"content_block_stop","index":0}') + toolStart(index);
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
  return undefined;
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

