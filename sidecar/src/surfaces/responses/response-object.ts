/**
 * The Responses API's `Response` object as a translated answer builds it:
 * the request's echoed fields with the real API's defaults, the output items,
 * the status and the usage. Shared by the whole answer (from-chat.ts) and the
 * stream's lifecycle events (stream-encoder.ts), so both carry one shape.
 * `output_text` is left out: it is a convenience the SDKs add, not a wire field.
 */
import { count, isObject, type Json } from '../../providers/common.ts';
import type { Usage } from '../../providers/types.ts';

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** Why a response is incomplete, from a chat finish_reason; undefined when it is complete. */
export function incompleteReason(finishReason: unknown): 'max_output_tokens' | 'content_filter' | undefined {
  if (finishReason === 'length') return 'max_output_tokens';
  if (finishReason === 'content_filter') return 'content_filter';
  return undefined;
}

/** Responses usage from a chat usage object (details included), or from the counts alone. */
export function responsesUsage(chatUsage: unknown, fallback?: Usage): Json | null {
  if (!isObject(chatUsage) && !fallback) return null;
  const u = isObject(chatUsage) ? chatUsage : {};
  const input = isObject(chatUsage) ? count(u.prompt_tokens) : (fallback?.prompt ?? 0);
  const output = isObject(chatUsage) ? count(u.completion_tokens) : (fallback?.completion ?? 0);
  const promptDetails = isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const completionDetails = isObject(u.completion_tokens_details) ? u.completion_tokens_details : {};
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count(promptDetails.cached_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count(completionDetails.reasoning_tokens) },
    total_tokens: isObject(chatUsage) && typeof u.total_tokens === 'number' ? count(u.total_tokens) : input + output,
  };
}

function echo(request: Json, key: string, fallback: unknown): unknown {
  const v = request[key];
  return v === undefined ? fallback : v;
}

export interface ResponseParts {
  id: string;
  createdAt: number;
  status: ResponseStatus;
  model: string;
  output: Json[];
  usage: Json | null;
  incompleteReason?: string | undefined;
  error?: { code: string; message: string } | undefined;
}

/** The Response object, its fields in the order the real API sends them. */
export function responseObject(request: Json, p: ResponseParts): Json {
  const reasoning = isObject(request.reasoning) ? { effort: request.reasoning.effort ?? null, summary: request.reasoning.summary ?? null } : { effort: null, summary: null };
  const text = isObject(request.text) ? { format: { type: 'text' }, ...request.text } : { format: { type: 'text' } };
  return {
    id: p.id,
    object: 'response',
    created_at: p.createdAt,
    status: p.status,
    background: false,
    error: p.error ?? null,
    incomplete_details: p.incompleteReason ? { reason: p.incompleteReason } : null,
    instructions: echo(request, 'instructions', null),
    max_output_tokens: echo(request, 'max_output_tokens', null),
    max_tool_calls: echo(request, 'max_tool_calls', null),
    model: p.model,
    output: p.output,
    parallel_tool_calls: echo(request, 'parallel_tool_calls', true),
    previous_response_id: echo(request, 'previous_response_id', null),
    prompt_cache_key: echo(request, 'prompt_cache_key', null),
    reasoning,
    safety_identifier: echo(request, 'safety_identifier', null),
    service_tier: echo(request, 'service_tier', 'default'),
    store: echo(request, 'store', true),
    temperature: echo(request, 'temperature', 1),
    text,
    tool_choice: echo(request, 'tool_choice', 'auto'),
    tools: echo(request, 'tools', []),
    top_logprobs: echo(request, 'top_logprobs', 0),
    top_p: echo(request, 'top_p', 1),
    truncation: echo(request, 'truncation', 'disabled'),
    usage: p.usage,
    user: echo(request, 'user', null),
    metadata: echo(request, 'metadata', {}),
  };
}

/** The model an answer names: the upstream's, else the client's. */
export function answerModel(chatModel: unknown, request: Json): string {
  if (typeof chatModel === 'string' && chatModel) return chatModel;
  return typeof request.model === 'string' ? request.model : '';
}

/** Chat logprobs content entries as Responses logprobs (token, logprob, bytes, top_logprobs). */
export function responsesLogprobs(choiceLogprobs: unknown): Json[] {
  const content = isObject(choiceLogprobs) ? choiceLogprobs.content : undefined;
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  for (const c of content) {
    if (!isObject(c)) continue;
    const top = Array.isArray(c.top_logprobs) ? c.top_logprobs.filter(isObject).map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes ?? [] })) : [];
    out.push({ token: c.token, logprob: c.logprob, bytes: c.bytes ?? [], top_logprobs: top });
  }
  return out;
}

/** The reasoning text of a chat message or delta: `reasoning_content` (DeepSeek, vLLM, llama.cpp) or `reasoning` (OpenRouter, Ollama). */
export function reasoningText(m: Json): string | undefined {
  const r = m.reasoning_content ?? m.reasoning;
  return typeof r === 'string' && r.length > 0 ? r : undefined;
}
