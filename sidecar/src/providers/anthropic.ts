/**
 * The `anthropic` adapter: OpenAI's chat API served by Anthropic's Messages
 * API, translated both ways (request: anthropic-request.ts; responses and
 * errors: anthropic-response.ts; streams: anthropic-stream.ts).
 */
import { BadRequestError } from '../errors.ts';
import { trimSlashes } from './common.ts';
import { clientWantsUsage } from './openai.ts';
import { toAnthropicBody } from './anthropic-request.ts';
import { parseAnthropicError, parseAnthropicResponse } from './anthropic-response.ts';
import { AnthropicStreamDecoder } from './anthropic-stream.ts';
import type { ProviderAdapter } from './types.ts';

export const ANTHROPIC_VERSION = '2023-06-01';

export const anthropicAdapter: ProviderAdapter = {
  name: 'anthropic',

  buildRequest(kind, body, target, options) {
    if (kind !== 'chat') {
      throw new BadRequestError('embeddings are not supported by anthropic targets; route embeddings to an OpenAI-compatible target', 'model');
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': ANTHROPIC_VERSION };
    const key = target.apiKey?.reveal();
    if (key) headers['x-api-key'] = key;
    return {
      url: `${trimSlashes(target.baseURL)}/messages`,
      headers,
      body: JSON.stringify(toAnthropicBody(body, target.model, options.stream)),
    };
  },

  parseResponse(_kind, _status, text, target) {
    return parseAnthropicResponse(text, target.model);
  },

  parseError: parseAnthropicError,

  createStreamDecoder(target, request) {
    return new AnthropicStreamDecoder(target.model, clientWantsUsage(request));
  },
};
