/**
 * The parts of a Messages answer read off a chat answer, whole or streamed:
 * the stop reason, the stop sequence and the usage.
 */
import { count, isObject, str, type Json } from '../../providers/common.ts';

/** The request's stop sequences. */
export function stopSequences(request: Json): string[] {
  const s = request.stop_sequences;
  return Array.isArray(s) ? s.filter((x): x is string => typeof x === 'string' && x !== '') : [];
}

/**
 * Which of the request's stop sequences ended the answer, when the chat
 * answer shows it. OpenAI does not say (and leaves the sequence out of the
 * text): such an answer reads as `end_turn`. vLLM names it in the choice's
 * `stop_reason`; servers that keep the sequence in the text end on it.
 */
export function matchedStop(stops: string[], choice: Json, textTail: string): string | undefined {
  if (stops.length === 0) return undefined;
  const named = str(choice.stop_reason);
  if (named !== undefined && stops.includes(named)) return named;
  return stops.find((s) => textTail.endsWith(s));
}

/** Anthropic's stop_reason for a chat finish_reason. */
export function stopReason(finish: unknown, stopSequence: string | undefined): string {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return stopSequence !== undefined ? 'stop_sequence' : 'end_turn';
  }
}

/**
 * Chat usage -> Messages usage. Chat's prompt_tokens includes the cached
 * ones; Anthropic counts cache reads apart from input_tokens, so they are
 * taken out. Cache writes are not reported by Chat servers: 0.
 */
export function messagesUsage(usage: unknown): { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number } {
  const u = isObject(usage) ? usage : {};
  const cached = isObject(u.prompt_tokens_details) ? count(u.prompt_tokens_details.cached_tokens) : 0;
  const prompt = count(u.prompt_tokens);
  return {
    input_tokens: Math.max(prompt - cached, 0),
    output_tokens: count(u.completion_tokens),
    cache_read_input_tokens: Math.min(cached, prompt),
    cache_creation_input_tokens: 0,
  };
}
