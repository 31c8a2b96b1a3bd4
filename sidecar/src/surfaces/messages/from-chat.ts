/**
 * A chat.completion object -> a Messages `message` (SurfaceTranslation.fromChat).
 *
 *   - `reasoning_content` (or vLLM's `reasoning`) becomes a thinking block
 *     first, with signature UNSIGNED: the SDKs require the field, and no
 *     signature Anthropic would verify exists for another model's thought.
 *   - tool calls become tool_use blocks with the chat call's id as theirs,
 *     so the id a client sends back as `tool_use_id` is the call's id again.
 *     Arguments that are not a JSON object give `input: {}` (what Anthropic
 *     itself answers for a call cut off by max_tokens).
 *   - a refusal is a text block (stop_reason `refusal` when the chat answer
 *     finished on content_filter).
 */
import { isObject, str, tryParse, type Json } from '../../providers/common.ts';
import type { TranslationContext } from '../types.ts';
import { matchedStop, messagesUsage, stopReason, stopSequences } from './answer-fields.ts';

/** The signature of thinking blocks made from another model's reasoning. */
export const UNSIGNED = '';

/** A chat message's reasoning text, where the servers put it. */
export function reasoningOf(m: Json): string | undefined {
  return str(m.reasoning_content) || str(m.reasoning) || undefined;
}

/** Tool call arguments -> tool_use input. */
export function toolInput(args: unknown): Json {
  if (isObject(args)) return args;
  const parsed = typeof args === 'string' ? tryParse(args) : undefined;
  return isObject(parsed) ? parsed : {};
}

export function messagesFromChat(chat: Json, request: Json, ctx: TranslationContext): string {
  const choice = Array.isArray(chat.choices) && isObject(chat.choices[0]) ? chat.choices[0] : {};
  const m = isObject(choice.message) ? choice.message : {};
  const content: Json[] = [];
  const reasoning = reasoningOf(m);
  if (reasoning) content.push({ type: 'thinking', thinking: reasoning, signature: UNSIGNED });
  const text = (str(m.content) ?? '') || (str(m.refusal) ?? '');
  if (text) content.push({ type: 'text', text });
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : isObject(m.function_call) ? [{ id: '', function: m.function_call }] : [];
  for (const call of calls) {
    if (!isObject(call)) continue;
    const fn = isObject(call.function) ? call.function : {};
    content.push({ type: 'tool_use', id: str(call.id) || ctx.newId('toolu'), name: str(fn.name) ?? '', input: toolInput(fn.arguments) });
  }
  const stop = choice.finish_reason === 'stop' || choice.finish_reason == null ? matchedStop(stopSequences(request), choice, text) : undefined;
  return JSON.stringify({
    id: ctx.newId('msg'),
    type: 'message',
    role: 'assistant',
    model: str(request.model) ?? str(chat.model) ?? '',
    content,
    stop_reason: stopReason(choice.finish_reason, stop),
    stop_sequence: stop ?? null,
    usage: messagesUsage(chat.usage),
  });
}
