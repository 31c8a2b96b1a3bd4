/**
 * Anthropic Messages responses and errors -> OpenAI's shapes.
 */
import { hintFromError } from '../classify.ts';
import {
  count,
  invalidBodyError,
  isObject,
  providerError,
  str,
  truncate,
  tryParse,
  typeForStatus,
  type Json,
} from './common.ts';
import type { ParsedResponse, ProviderError, Usage } from './types.ts';
import { PLAIN_SHAPE, type ResponseShape } from './anthropic-request.ts';
import { firstStop } from './stop-sequences.ts';

/** Anthropic's error types: the status each stands for and OpenAI's type and code for it. */
const ERROR_TYPES: Record<string, { status: number; type: string; code: string | null }> = {
  invalid_request_error: { status: 400, type: 'invalid_request_error', code: null },
  authentication_error: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  billing_error: { status: 402, type: 'insufficient_quota', code: 'insufficient_quota' },
  permission_error: { status: 403, type: 'permission_error', code: null },
  not_found_error: { status: 404, type: 'not_found_error', code: null },
  request_too_large: { status: 413, type: 'invalid_request_error', code: 'request_too_large' },
  rate_limit_error: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  api_error: { status: 500, type: 'server_error', code: null },
  timeout_error: { status: 504, type: 'server_error', code: 'timeout' },
  overloaded_error: { status: 529, type: 'server_error', code: 'overloaded' },
};

/**
 * Anthropic's `error` object -> ProviderError. `status` is the HTTP status
 * when there was one; inside a stream or a 2xx body the error type implies it.
 */
export function anthropicError(error: unknown, status: number | undefined): ProviderError {
  const e = isObject(error) ? error : {};
  const known = ERROR_TYPES[str(e.type) ?? ''];
  const httpStatus = status ?? known?.status ?? 500;
  const message = str(e.message) || `the provider reported ${str(e.type) ?? 'an error'}`;
  let type = known?.type ?? typeForStatus(httpStatus);
  let code = known?.code ?? null;
  const details = isObject(e.details) ? e.details : undefined;
  const hint = details?.error_code === 'enforced_spend_limit_reached' ? 'quota' : hintFromError(code, message);
  if (hint === 'context-window') code ??= 'context_length_exceeded';
  else if (hint === 'quota') type = code = 'insufficient_quota';
  return providerError(httpStatus, message, type, code);
}

/** A non-2xx response. Non-JSON bodies (say a proxy's HTML 413 page) keep their text, truncated. */
export function parseAnthropicError(status: number, text: string): ProviderError {
  const parsed = tryParse(text);
  if (isObject(parsed) && parsed.error !== undefined) {
    if (isObject(parsed.error)) return anthropicError(parsed.error, status);
    if (typeof parsed.error === 'string') return anthropicError({ message: parsed.error }, status);
  }
  const message = isObject(parsed) ? str(parsed.message) : undefined;
  const known = Object.values(ERROR_TYPES).find((t) => t.status === status);
  return providerError(
    status,
    message || truncate(text.trim()) || `the provider answered ${status} with an empty body`,
    known?.type ?? typeForStatus(status),
    known?.code ?? null,
  );
}

export function finishReason(stopReason: unknown): string {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    // end_turn, stop_sequence, pause_turn (a server-tool turn paused: the text so far is a complete answer), null.
    default:
      return 'stop';
  }
}

/** Anthropic counts cache writes and reads apart from input_tokens; OpenAI's prompt_tokens includes them. */
export function promptTokens(u: Json): number {
  return count(u.input_tokens) + count(u.cache_creation_input_tokens) + count(u.cache_read_input_tokens);
}

export function parseAnthropicResponse(text: string, fallbackModel: string, shape: ResponseShape = PLAIN_SHAPE): ParsedResponse {
  const msg = tryParse(text);
  if (!isObject(msg)) return { ok: false, error: invalidBodyError('response body') };
  if (msg.type === 'error' || isObject(msg.error)) return { ok: false, error: anthropicError(msg.error, undefined) };
  if (!Array.isArray(msg.content)) return { ok: false, error: invalidBodyError('message (no content)') };

  let content = '';
  let reasoning = '';
  let toolCalls: Json[] = [];
  for (const block of msg.content) {
    if (!isObject(block)) continue;
    if (block.type === 'text') content += str(block.text) ?? '';
    else if (block.type === 'thinking') reasoning += str(block.thinking) ?? '';
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: str(block.id) ?? `call_${toolCalls.length}`,
        type: 'function',
        function: { name: str(block.name) ?? '', arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // redacted_thinking blocks are dropped (encrypted, nothing to show), and
    // server-tool blocks (server_tool_use, web_search_tool_result) too.
  }

  let finish = finishReason(msg.stop_reason);
  if (shape.stops.length) {
    const cut = firstStop(content, shape.stops);
    if (cut !== -1) {
      // The answer ends at the stop sequence, as it would have on OpenAI: nothing after it (no tool call either).
      content = content.slice(0, cut);
      toolCalls = [];
      finish = 'stop';
    }
  }
  const message: Json = { role: 'assistant', content: content === '' && toolCalls.length ? null : content, refusal: null };
  // Thinking is not content: it goes where other gateways put reasoning (reasoning_content).
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length && shape.legacy) {
    message.function_call = (toolCalls[0] as { function: Json }).function;
    finish = 'function_call';
  } else if (toolCalls.length) message.tool_calls = toolCalls;
  const u = isObject(msg.usage) ? msg.usage : {};
  const usage: Usage = { prompt: promptTokens(u), completion: count(u.output_tokens) };
  const openaiUsage: Json = {
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    total_tokens: usage.prompt + usage.completion,
  };
  if (count(u.cache_read_input_tokens)) openaiUsage.prompt_tokens_details = { cached_tokens: count(u.cache_read_input_tokens) };

  const body = {
    id: `chatcmpl-${str(msg.id) ?? Date.now().toString(36)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: str(msg.model) || fallbackModel,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
    usage: openaiUsage,
  };
  return { ok: true, body: JSON.stringify(body), usage };
}
