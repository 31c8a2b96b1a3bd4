/**
 * The `anthropic` adapter: OpenAI's chat API served by Anthropic's Messages
 * API, translated both ways (request: anthropic-request.ts; responses and
 * errors: anthropic-response.ts; streams: anthropic-stream.ts).
 */
import { BadRequestError } from '../errors.ts';
import { trimSlashes } from './common.ts';
import { clientWantsUsage } from './openai.ts';
import { responseShape, toAnthropicBody } from './anthropic-request.ts';
import { parseAnthropicError, parseAnthropicResponse } from './anthropic-response.ts';
import { AnthropicStreamDecoder } from './anthropic-stream.ts';
import { chunkObjects, chunkText } from './chat-chunks.ts';
import type { ProviderAdapter } from './types.ts';

export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * The Messages endpoint under a base URL, in either convention: with `/v1`
 * (https://api.anthropic.com/v1, llmroute's default) or without it, as the
 * Anthropic SDKs take it (https://api.anthropic.com); a trailing slash too.
 */
export function messagesURL(baseURL: string): string {
  const base = trimSlashes(baseURL);
  return base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`;
}

export const anthropicAdapter: ProviderAdapter = {
  name: 'anthropic',

  buildRequest(kind, body, target, options) {
    if (kind !== 'chat') {
      throw new BadRequestError('embeddings are not supported by anthropic targets; route embeddings to an OpenAI-compatible target', 'model');
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: options.stream ? 'text/event-stream' : 'application/json',
      'anthropic-version': ANTHROPIC_VERSION,
    };
    const key = target.apiKey?.reveal();
    if (key) headers['x-api-key'] = key;
    return {
      url: messagesURL(target.baseURL),
      headers,
      body: JSON.stringify(toAnthropicBody(body, { model: target.model, stream: options.stream, maxTokens: target.maxTokens })),
    };
  },

  parseResponse(_kind, _status, text, target, request) {
    return parseAnthropicResponse(text, target.model, request ? responseShape(request) : undefined);
  },

  parseError: parseAnthropicError,

  createStreamDecoder: (target, request) => new AnthropicStreamDecoder(chunkText(target.model, clientWantsUsage(request)), responseShape(request)),
  createChunkDecoder: (target, request) => new AnthropicStreamDecoder(chunkObjects(target.model, clientWantsUsage(request)), responseShape(request)),
};
