/**
 * Bedrock Converse responses and errors -> OpenAI's shapes. Bedrock names
 * an error by its type (the `x-amzn-errortype` header, or `__type` in the
 * body; in a stream, the `:exception-type` of an exception frame); the
 * class comes from the type, refined by the message.
 */
import { count, invalidBodyError, isObject, providerError, str, truncate, tryParse, type Json } from './common.ts';
import type { ParsedResponse, ProviderError, Usage } from './types.ts';

/** Bedrock's error types: the status each stands for and OpenAI's type and code. */
const ERROR_TYPES: Record<string, { status: number; type: string; code: string | null }> = {
  ThrottlingException: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  ServiceQuotaExceededException: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  // A model warming up (429 on the wire): another target can answer now, and this one soon.
  ModelNotReadyException: { status: 503, type: 'server_error', code: 'model_not_ready' },
  ServiceUnavailableException: { status: 503, type: 'server_error', code: null },
  InternalServerException: { status: 500, type: 'server_error', code: null },
  ModelErrorException: { status: 502, type: 'server_error', code: 'model_error' },
  ModelStreamErrorException: { status: 502, type: 'server_error', code: 'model_error' },
  ModelTimeoutException: { status: 408, type: 'server_error', code: 'timeout' },
  ValidationException: { status: 400, type: 'invalid_request_error', code: null },
  AccessDeniedException: { status: 403, type: 'permission_error', code: null },
  UnrecognizedClientException: { status: 403, type: 'authentication_error', code: 'invalid_api_key' },
  InvalidSignatureException: { status: 403, type: 'authentication_error', code: 'invalid_api_key' },
  ExpiredTokenException: { status: 403, type: 'authentication_error', code: 'invalid_api_key' },
  MissingAuthenticationTokenException: { status: 403, type: 'authentication_error', code: 'invalid_api_key' },
  ResourceNotFoundException: { status: 404, type: 'not_found_error', code: 'model_not_found' },
};

/** Error types whose class is their type's, not their HTTP status's (see bedrockError). */
const BY_TYPE = new Set(['ModelNotReadyException', 'ServiceQuotaExceededException', 'ModelErrorException']);

/** Bedrock's and its models' wording for a prompt over the context window. */
const CONTEXT_TEXT = /(input is too long|too many (input )?tokens|prompt is too long|exceeds? the (model'?s? )?(maximum|context)|context (length|window))/i;

/** `ThrottlingException:http://internal.amazon.com/coral/…`, `com.amazon.coral#ThrottlingException` -> ThrottlingException; stream exception types are camelCase. */
export function errorTypeName(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let name = raw.split(':')[0]!;
  const hash = name.lastIndexOf('#');
  if (hash !== -1) name = name.slice(hash + 1);
  return name ? name[0]!.toUpperCase() + name.slice(1) : undefined;
}

/** A Bedrock error of `type` -> ProviderError. `httpStatus` when there was one. */
export function bedrockError(type: string | undefined, message: string | undefined, httpStatus: number | undefined): ProviderError {
  const known = type ? ERROR_TYPES[type] : undefined;
  // Types whose wire status says another class than theirs are read by their type: ModelNotReady
  // (429 on the wire) is server-error, ServiceQuotaExceeded (400) rate-limit, ModelError (424) server-error.
  const status = known && (BY_TYPE.has(type!) || httpStatus === undefined) ? known.status : (httpStatus ?? 500);
  const text = message || `the provider reported ${type ?? 'an error'}`;
  let code = known?.code ?? null;
  if (type === 'ValidationException' && CONTEXT_TEXT.test(text)) code = 'context_length_exceeded';
  return providerError(status, text, known?.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), code);
}

function header(headers: Record<string, string | string[] | undefined> | undefined, name: string): string | undefined {
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A non-2xx response: the type from x-amzn-errortype, else the body's __type or code. */
export function parseBedrockError(status: number, text: string, headers?: Record<string, string | string[] | undefined>): ProviderError {
  const parsed = tryParse(text);
  const body = isObject(parsed) ? parsed : {};
  const type = errorTypeName(header(headers, 'x-amzn-errortype') ?? str(body.__type) ?? str(body.code));
  const message = str(body.message) ?? str(body.Message) ?? (truncate(text.trim()) || undefined);
  return bedrockError(type, message, status);
}

/** Converse stop reasons -> finish_reason. */
export function finishFor(stopReason: unknown): string {
  switch (stopReason) {
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      // end_turn, stop_sequence
      return 'stop';
  }
}

export function refusalFor(stopReason: string): string {
  return stopReason === 'guardrail_intervened' ? 'The response was blocked by a Bedrock guardrail.' : 'The response was blocked by the content filter of the model on Bedrock.';
}

/** Converse usage -> Usage and OpenAI's usage (cache reads and writes are part of the prompt). */
export function converseUsage(u: unknown): { usage: Usage; openai: Json } {
  const x = isObject(u) ? u : {};
  const prompt = count(x.inputTokens) + count(x.cacheReadInputTokens) + count(x.cacheWriteInputTokens);
  const completion = count(x.outputTokens);
  const openai: Json = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (count(x.cacheReadInputTokens)) openai.prompt_tokens_details = { cached_tokens: count(x.cacheReadInputTokens) };
  return { usage: { prompt, completion }, openai };
}

export function parseConverseResponse(text: string, model: string, legacy = false): ParsedResponse {
  const res = tryParse(text);
  if (!isObject(res)) return { ok: false, error: invalidBodyError('response body') };
  const msg = isObject(res.output) && isObject(res.output.message) ? res.output.message : undefined;
  if (!msg || !Array.isArray(msg.content)) return { ok: false, error: invalidBodyError('response (no output.message)') };
  let content = '';
  let reasoning = '';
  const calls: Json[] = [];
  for (const block of msg.content) {
    if (!isObject(block)) continue;
    if (typeof block.text === 'string') content += block.text;
    else if (isObject(block.toolUse)) {
      const t = block.toolUse;
      calls.push({ id: str(t.toolUseId) ?? `call_${calls.length}`, type: 'function', function: { name: str(t.name) ?? '', arguments: JSON.stringify(t.input ?? {}) } });
    } else if (isObject(block.reasoningContent) && isObject(block.reasoningContent.reasoningText)) {
      reasoning += str(block.reasoningContent.reasoningText.text) ?? '';
    }
  }
  const stop = str(res.stopReason) ?? 'end_turn';
  let finish = finishFor(stop);
  const message: Json = { role: 'assistant', content: content === '' && (calls.length || finish === 'content_filter') ? null : content, refusal: null };
  if (finish === 'content_filter') message.refusal = refusalFor(stop);
  if (reasoning) message.reasoning_content = reasoning;
  if (calls.length && legacy) {
    message.function_call = (calls[0] as { function: Json }).function;
    finish = 'function_call';
  } else if (calls.length) message.tool_calls = calls;
  const { usage, openai } = converseUsage(res.usage);
  const body = {
    id: `chatcmpl-bedrock-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
    usage: openai,
  };
  return { ok: true, body: JSON.stringify(body), usage };
}
