/**
 * A chat.completion as the Responses API's Response object: a `reasoning`
 * item when the message had reasoning text, a `message` item with the text
 * (or the refusal), one `function_call` item per tool call, the usage, and
 * the request's echoed fields (response-object.ts).
 */
import { isObject, str, type Json } from '../../providers/common.ts';
import type { TranslationContext } from '../types.ts';
import { answerModel, incompleteReason, reasoningText, responseObject, responsesLogprobs, responsesUsage } from './response-object.ts';

/** A reasoning output item with one summary text. */
export function reasoningItem(id: string, text: string): Json {
  return { id, type: 'reasoning', summary: [{ type: 'summary_text', text }] };
}

/** An output_text content part. */
export function outputTextPart(text: string, logprobs: Json[]): Json {
  return { type: 'output_text', annotations: [], logprobs, text };
}

export function functionCallItem(id: string, callId: string, name: string, args: string, status: string): Json {
  return { id, type: 'function_call', status, arguments: args, call_id: callId, name };
}

/** The output items of one chat message. */
function outputItems(message: Json, choice: Json, status: 'completed' | 'incomplete', ctx: TranslationContext): Json[] {
  const out: Json[] = [];
  const reasoning = reasoningText(message);
  if (reasoning !== undefined) out.push(reasoningItem(ctx.newId('rs'), reasoning));
  const content: Json[] = [];
  if (typeof message.content === 'string' && message.content.length > 0) content.push(outputTextPart(message.content, responsesLogprobs(choice.logprobs)));
  if (typeof message.refusal === 'string' && message.refusal.length > 0) content.push({ type: 'refusal', refusal: message.refusal });
  if (content.length > 0) out.push({ id: ctx.newId('msg'), type: 'message', status, content, role: 'assistant' });
  if (Array.isArray(message.tool_calls)) {
    for (const tc of message.tool_calls) {
      if (!isObject(tc)) continue;
      const fn = isObject(tc.function) ? tc.function : {};
      out.push(functionCallItem(ctx.newId('fc'), str(tc.id) ?? ctx.newId('call'), str(fn.name) ?? '', str(fn.arguments) ?? '', 'completed'));
    }
  }
  return out;
}

/** The Response object (not serialised) of a chat.completion. */
export function responseFromChat(chat: Json, request: Json, ctx: TranslationContext): Json {
  const choice = Array.isArray(chat.choices) && isObject(chat.choices[0]) ? chat.choices[0] : {};
  const message = isObject(choice.message) ? choice.message : {};
  const reason = incompleteReason(choice.finish_reason);
  const status = reason ? 'incomplete' : 'completed';
  return responseObject(request, {
    id: ctx.newId('resp'),
    createdAt: ctx.nowSeconds(),
    status,
    model: answerModel(chat.model, request),
    output: outputItems(message, choice, status, ctx),
    usage: responsesUsage(chat.usage),
    incompleteReason: reason,
  });
}
