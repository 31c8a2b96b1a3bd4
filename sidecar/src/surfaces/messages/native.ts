/**
 * The Messages API to `anthropic` targets, natively (`messagesNative`, a
 * ProviderAdapter taking kinds `messages` and `count-tokens`): the client's
 * body goes out as it came with only its `model` rewritten to the target's
 * (thinking blocks and their signatures, cache_control, tool_use and
 * tool_result, images, documents all untouched), under the target's key and
 * the same base URL forms and headers as the chat anthropic adapter. The
 * client's `anthropic-beta` header is passed on (betas change what the body
 * may hold); no other client header is.
 */
import { BadRequestError } from '../../errors.ts';
import { ANTHROPIC_VERSION, messagesURL } from '../../providers/anthropic.ts';
import { anthropicError, parseAnthropicError, promptTokens } from '../../providers/anthropic-response.ts';
import { count, invalidBodyError, isObject, tryParse } from '../../providers/common.ts';
import type { ProviderAdapter, Usage } from '../../providers/types.ts';
import { MessagesPassThroughDecoder } from './native-stream.ts';

/** The count_tokens endpoint under a base URL (either convention, as messagesURL). */
export function countTokensURL(baseURL: string): string {
  return `${messagesURL(baseURL)}/count_tokens`;
}

/**
 * The messages without thinking blocks that carry no signature, or undefined when there are none.
 * Such blocks come from an earlier turn another provider answered (through Chat, from-chat.ts gives
 * reasoning an empty signature): Anthropic refuses a thinking block whose signature it did not make,
 * so a conversation that fails over to it would turn into a 400. Anthropic ignores earlier turns'
 * thinking anyway; a block with a signature, Anthropic's own, is kept.
 */
export function withoutUnsignedThinking(messages: unknown): unknown[] | undefined {
  if (!Array.isArray(messages)) return undefined;
  let out: unknown[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isObject(m) || m.role !== 'assistant' || !Array.isArray(m.content)) continue;
    if (!m.content.some(isUnsignedThinking)) continue;
    out ??= messages.slice();
    out[i] = { ...m, content: m.content.filter((b) => !isUnsignedThinking(b)) };
  }
  return out;
}

function isUnsignedThinking(b: unknown): boolean {
  return isObject(b) && b.type === 'thinking' && (b.signature === '' || b.signature === undefined || b.signature === null);
}

export const messagesNative: ProviderAdapter = {
  name: 'anthropic',

  buildRequest(kind, body, target, options) {
    if (kind !== 'messages' && kind !== 'count-tokens') {
      throw new BadRequestError(`the Messages API codec does not serve ${kind} requests`, null);
    }
    const stream = kind === 'messages' && options.stream;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      'anthropic-version': ANTHROPIC_VERSION,
    };
    const key = target.apiKey?.reveal();
    if (key) headers['x-api-key'] = key;
    const beta = options.clientHeaders?.['anthropic-beta'];
    // node:http joins a repeated header into one value; an array only comes from a hand-made object.
    if (beta) headers['anthropic-beta'] = Array.isArray(beta) ? beta.join(',') : beta;
    const out: Record<string, unknown> = { ...body, model: target.model };
    if (stream) out.stream = true;
    const messages = withoutUnsignedThinking(body.messages);
    if (messages) out.messages = messages;
    return { url: kind === 'messages' ? messagesURL(target.baseURL) : countTokensURL(target.baseURL), headers, body: JSON.stringify(out) };
  },

  /** The body goes on as received; read for the error it may carry and for usage (messages only: a count is no use of tokens). */
  parseResponse(kind, _status, text) {
    const msg = tryParse(text);
    if (!isObject(msg)) return { ok: false, error: invalidBodyError('response body') };
    if (msg.type === 'error' || isObject(msg.error)) return { ok: false, error: anthropicError(msg.error, undefined) };
    if (kind !== 'messages' || !isObject(msg.usage)) return { ok: true, body: text };
    const usage: Usage = { prompt: promptTokens(msg.usage), completion: count(msg.usage.output_tokens) };
    return { ok: true, body: text, usage };
  },

  parseError: parseAnthropicError,

  createStreamDecoder() {
    return new MessagesPassThroughDecoder();
  },
};
