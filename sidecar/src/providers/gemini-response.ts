/**
 * Gemini `generateContent` responses and errors -> OpenAI's shapes.
 *
 * Decisions (README, "Gemini targets"):
 * - finishReason STOP -> stop (tool_calls when the answer calls functions), MAX_TOKENS -> length.
 * - SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY (and the other
 *   IMAGE_* blocks): the answer was withheld. Not a clean success: finish_reason content_filter
 *   and `message.refusal` saying which filter stopped it (the text before the block, if any,
 *   stays in `content`).
 * - MALFORMED_FUNCTION_CALL / UNEXPECTED_TOOL_CALL: the model failed to call a tool; a
 *   server-error (502), so another target can answer.
 * - `promptFeedback.blockReason` (the prompt itself was blocked, no candidate): a bad-request
 *   (400, code content_filter), as Azure OpenAI's prompt filter answers. It does not fall back:
 *   the same prompt would be sent to every target, and the client must change it.
 */
import { count, invalidBodyError, isObject, providerError, str, truncate, tryParse, type Json } from './common.ts';
import type { ParsedResponse, ProviderError, Usage } from './types.ts';

/** google.rpc status names: the HTTP status each stands for and OpenAI's type and code. */
const STATUSES: Record<string, { status: number; type: string; code: string | null }> = {
  INVALID_ARGUMENT: { status: 400, type: 'invalid_request_error', code: null },
  FAILED_PRECONDITION: { status: 400, type: 'invalid_request_error', code: null },
  OUT_OF_RANGE: { status: 400, type: 'invalid_request_error', code: null },
  UNAUTHENTICATED: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  PERMISSION_DENIED: { status: 403, type: 'permission_error', code: null },
  NOT_FOUND: { status: 404, type: 'not_found_error', code: 'model_not_found' },
  RESOURCE_EXHAUSTED: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  CANCELLED: { status: 499, type: 'server_error', code: null },
  INTERNAL: { status: 500, type: 'server_error', code: null },
  UNKNOWN: { status: 500, type: 'server_error', code: null },
  UNAVAILABLE: { status: 503, type: 'server_error', code: null },
  DEADLINE_EXCEEDED: { status: 504, type: 'server_error', code: 'timeout' },
};

/** Gemini's wording for a prompt over the model's input limit. */
const TOKEN_LIMIT_TEXT = /(input token count.*exceeds|exceeds the maximum number of tokens|too many tokens|request payload size exceeds)/i;

function statusOfCode(code: number): string | undefined {
  return Object.keys(STATUSES).find((k) => STATUSES[k]!.status === code);
}

/** The reasons in google.rpc error details (ErrorInfo). */
function detailReasons(e: Json): string[] {
  if (!Array.isArray(e.details)) return [];
  return e.details.flatMap((d) => (isObject(d) && typeof d.reason === 'string' ? [d.reason] : []));
}

/** Gemini's `error` object -> ProviderError. `httpStatus` is the HTTP status when there was one (in a stream, the error's own code). */
export function geminiError(error: unknown, httpStatus: number | undefined): ProviderError {
  const e = isObject(error) ? error : {};
  const name = str(e.status) ?? (typeof e.code === 'number' ? statusOfCode(e.code) : undefined) ?? '';
  const known = STATUSES[name];
  let status = httpStatus ?? (typeof e.code === 'number' && e.code >= 400 && e.code < 600 ? e.code : (known?.status ?? 500));
  const message = str(e.message) || `the provider reported ${name || 'an error'}`;
  let type = known?.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  let code = known?.code ?? null;
  // An invalid API key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID: the target's key is wrong.
  if (detailReasons(e).some((r) => r === 'API_KEY_INVALID' || r === 'API_KEY_EXPIRED') || /API key (not valid|expired)/i.test(message)) {
    status = 401;
    type = 'authentication_error';
    code = 'invalid_api_key';
  } else if (status === 400 && TOKEN_LIMIT_TEXT.test(message)) {
    code = 'context_length_exceeded';
  } else if (name === 'FAILED_PRECONDITION') {
    // "User location is not supported", "enable billing": the target cannot serve anyone.
    status = 403;
    type = 'permission_error';
  }
  return providerError(status, message, type, code);
}

/** A non-2xx response. Non-JSON bodies (a proxy's HTML page) keep their text, truncated. */
export function parseGeminiError(status: number, text: string): ProviderError {
  let parsed = tryParse(text);
  // Streamed requests answer errors as a JSON array of one object on some paths.
  if (Array.isArray(parsed) && parsed.length === 1) parsed = parsed[0];
  if (isObject(parsed) && isObject(parsed.error)) return geminiError(parsed.error, status);
  const name = statusOfCode(status);
  return geminiError({ status: name, message: truncate(text.trim()) || `the provider answered ${status} with an empty body` }, status);
}

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION', 'IMAGE_OTHER', 'LANGUAGE']);
const FAILED_CALLS = new Set(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS']);

/** OpenAI's finish_reason for a Gemini finishReason; `calls` when the answer holds function calls. */
export function finishFor(reason: unknown, calls: boolean): string {
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  if (reason === 'MAX_TOKENS') return 'length';
  return calls ? 'tool_calls' : 'stop';
}

/** The refusal text of a filtered answer. */
export function refusalFor(reason: string): string {
  return `The response was blocked by Gemini (finishReason ${reason}).`;
}

/** A finishReason that makes the answer a failure, or undefined. */
export function failedFinish(reason: unknown): ProviderError | undefined {
  if (typeof reason !== 'string' || !FAILED_CALLS.has(reason)) return undefined;
  return providerError(502, `the model failed to call a tool (finishReason ${reason})`, 'server_error', reason.toLowerCase());
}

/** The prompt itself was blocked: a bad request that no other target should be tried with. */
export function blockedPrompt(feedback: unknown): ProviderError | undefined {
  if (!isObject(feedback) || typeof feedback.blockReason !== 'string') return undefined;
  const extra = str(feedback.blockReasonMessage);
  return providerError(400, `the prompt was blocked by Gemini (blockReason ${feedback.blockReason})${extra ? `: ${extra}` : ''}`, 'invalid_request_error', 'content_filter');
}

/** Gemini usageMetadata -> Usage and OpenAI's usage object (thoughts are completion tokens; cached ones are part of the prompt). */
export function geminiUsage(meta: unknown): { usage: Usage; openai: Json } {
  const u = isObject(meta) ? meta : {};
  const prompt = count(u.promptTokenCount) + count(u.toolUsePromptTokenCount);
  const thoughts = count(u.thoughtsTokenCount);
  const completion = count(u.candidatesTokenCount) + thoughts;
  const openai: Json = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (count(u.cachedContentTokenCount)) openai.prompt_tokens_details = { cached_tokens: count(u.cachedContentTokenCount) };
  if (thoughts) openai.completion_tokens_details = { reasoning_tokens: thoughts };
  return { usage: { prompt, completion }, openai };
}

/** What the parts of one candidate say. */
export interface CandidateParts {
  text: string;
  reasoning: string;
  calls: { id: string | undefined; name: string; arguments: string }[];
}

export function readParts(content: unknown): CandidateParts {
  const out: CandidateParts = { text: '', reasoning: '', calls: [] };
  const parts = isObject(content) && Array.isArray(content.parts) ? content.parts : [];
  for (const part of parts) {
    if (!isObject(part)) continue;
    if (typeof part.text === 'string') {
      if (part.thought === true) out.reasoning += part.text;
      else out.text += part.text;
    } else if (isObject(part.functionCall)) {
      const fc = part.functionCall;
      out.calls.push({ id: str(fc.id), name: str(fc.name) ?? '', arguments: JSON.stringify(fc.args ?? {}) });
    }
    // inlineData (generated images), executableCode and codeExecutionResult have no Chat counterpart.
  }
  return out;
}

export function callId(id: string | undefined, fallback: string): string {
  return id || fallback;
}

export function parseGeminiResponse(text: string, fallbackModel: string, legacy = false): ParsedResponse {
  const res = tryParse(text);
  if (!isObject(res)) return { ok: false, error: invalidBodyError('response body') };
  if (isObject(res.error)) return { ok: false, error: geminiError(res.error, undefined) };
  const candidates = Array.isArray(res.candidates) ? res.candidates.filter(isObject) : [];
  if (candidates.length === 0) {
    return { ok: false, error: blockedPrompt(res.promptFeedback) ?? invalidBodyError('response (no candidates)') };
  }
  const responseId = str(res.responseId);
  const choices: Json[] = [];
  for (const [i, c] of candidates.entries()) {
    const failed = failedFinish(c.finishReason);
    if (failed) return { ok: false, error: failed };
    const parts = readParts(c.content);
    let finish = finishFor(c.finishReason, parts.calls.length > 0);
    const message: Json = { role: 'assistant', content: parts.text === '' && (parts.calls.length || finish === 'content_filter') ? null : parts.text, refusal: null };
    if (finish === 'content_filter') message.refusal = refusalFor(String(c.finishReason));
    if (parts.reasoning) message.reasoning_content = parts.reasoning;
    const calls = parts.calls.map((call, j) => ({ id: callId(call.id, `call_${responseId ?? 'gemini'}_${i}_${j}`), type: 'function', function: { name: call.name, arguments: call.arguments } }));
    if (calls.length && legacy) {
      message.function_call = calls[0]!.function;
      finish = 'function_call';
    } else if (calls.length) message.tool_calls = calls;
    choices.push({ index: typeof c.index === 'number' ? c.index : i, message, logprobs: null, finish_reason: finish });
  }
  const { usage, openai } = geminiUsage(res.usageMetadata);
  const body = {
    id: `chatcmpl-${responseId ?? Date.now().toString(36)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: str(res.modelVersion) || fallbackModel,
    choices,
    usage: openai,
  };
  return { ok: true, body: JSON.stringify(body), usage };
}
