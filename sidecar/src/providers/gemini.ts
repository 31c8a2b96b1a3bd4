/**
 * The `gemini` adapter: OpenAI's chat API served by Google AI Studio's
 * native Gemini API (`POST {base}/v1beta/models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse`), key in `x-goog-api-key`. Translation:
 * gemini-request.ts; responses and errors: gemini-response.ts; streams:
 * gemini-stream.ts.
 */
import { BadRequestError } from '../errors.ts';
import { trimSlashes } from './common.ts';
import { clientWantsUsage } from './openai.ts';
import { usesLegacyFunctions } from './anthropic-request.ts';
import { geminiModelPath, toGeminiBody } from './gemini-request.ts';
import { parseGeminiError, parseGeminiResponse } from './gemini-response.ts';
import { GeminiStreamDecoder } from './gemini-stream.ts';
import { chunkObjects, chunkText } from './chat-chunks.ts';
import type { ProviderAdapter } from './types.ts';

/** The method URL under a base URL given with or without its version (`…/v1beta`). */
export function geminiURL(baseURL: string, model: string, stream: boolean): string {
  let base = trimSlashes(baseURL);
  if (!/\/v1(beta|alpha)?$/.test(base)) base = `${base}/v1beta`;
  return `${base}/models/${geminiModelPath(model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
}

export const geminiAdapter: ProviderAdapter = {
  name: 'gemini',

  buildRequest(kind, body, target, options) {
    if (kind !== 'chat') {
      throw new BadRequestError(`${kind} requests are not supported by gemini targets; route them to an OpenAI-compatible target`, 'model');
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: options.stream ? 'text/event-stream' : 'application/json',
    };
    const key = target.apiKey?.reveal();
    if (key) headers['x-goog-api-key'] = key;
    return { url: geminiURL(target.baseURL, target.model, options.stream), headers, body: JSON.stringify(toGeminiBody(body, target.model)) };
  },

  parseResponse(_kind, _status, text, target, request) {
    return parseGeminiResponse(text, target.model, request ? usesLegacyFunctions(request) : false);
  },

  parseError: parseGeminiError,

  createStreamDecoder: (target, request) => new GeminiStreamDecoder(chunkText(target.model, clientWantsUsage(request)), usesLegacyFunctions(request)),
  createChunkDecoder: (target, request) => new GeminiStreamDecoder(chunkObjects(target.model, clientWantsUsage(request)), usesLegacyFunctions(request)),
};
