/**
 * The `vertex` adapter: OpenAI's chat API served by Google Cloud Vertex AI.
 * Two publishers under `{base}/v1/projects/{project}/locations/{location}`,
 * chosen by the model name:
 * - Gemini (`publishers/google/models/{model}:generateContent`,
 *   `:streamGenerateContent?alt=sse`): the gemini adapter's translation;
 * - Claude, models named `claude-…` (`publishers/anthropic/models/{model}:rawPredict`,
 *   `:streamRawPredict`): the anthropic adapter's translation, with
 *   `anthropic_version: vertex-2023-10-16` in the body and no `model` field.
 * The base is https://{location}-aiplatform.googleapis.com
 * (https://aiplatform.googleapis.com for `global`) unless the target names one.
 *
 * No cost for routes without vertex targets: vertex-auth.ts, and with it
 * google-auth-library, is imported on the first vertex request (`prepare`),
 * then kept.
 */
import { BadRequestError } from '../errors.ts';
import { isObject, trimSlashes, tryParse } from './common.ts';
import { clientWantsUsage } from './openai.ts';
import { responseShape, toAnthropicBody, usesLegacyFunctions } from './anthropic-request.ts';
import { parseAnthropicError, parseAnthropicResponse } from './anthropic-response.ts';
import { AnthropicStreamDecoder } from './anthropic-stream.ts';
import { toGeminiBody } from './gemini-request.ts';
import { parseGeminiError, parseGeminiResponse } from './gemini-response.ts';
import { GeminiStreamDecoder } from './gemini-stream.ts';
import { chunkObjects, chunkText, type ChunkWriterFor } from './chat-chunks.ts';
import type { ProviderAdapter, ProviderTarget, StreamDecoder } from './types.ts';

/** Claude on Vertex streams Anthropic's events; Gemini its own. */
function vertexDecoder<C>(chunks: ChunkWriterFor<C>, target: ProviderTarget, request: Record<string, unknown>): StreamDecoder<C> {
  const writer = chunks(target.model, clientWantsUsage(request));
  return isVertexClaude(target.model) ? new AnthropicStreamDecoder(writer, responseShape(request)) : new GeminiStreamDecoder(writer, usesLegacyFunctions(request));
}

export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/**
 * What Claude on Vertex takes otherwise than Anthropic's API: refusals name vertex; no image URLs
 * (Vertex answers "URL sources are not supported": base64 data: URLs only); no output_config.format
 * (structured outputs are off by default there, behind the org policy constraint
 * vertexai.allowedPartnerModelFeatures, and not yet on every model): JSON modes go as the system instruction.
 */
const VERTEX_CLAUDE = { targets: 'vertex', urlImages: false, structuredOutputs: false } as const;

type AuthModule = typeof import('./vertex-auth.ts');
let authModule: Promise<AuthModule> | undefined;

/** Claude models go to the anthropic publisher, every other model to google's. */
export function isVertexClaude(model: string): boolean {
  return model.startsWith('claude-');
}

/** A path segment that keeps Vertex's `@` of versioned model names (`claude-sonnet-4-5@20250929`). */
function segment(s: string): string {
  return encodeURIComponent(s).replace(/%40/g, '@');
}

/** The method URL of a model on Vertex AI. */
export function vertexURL(baseURL: string, project: string, location: string, model: string, stream: boolean): string {
  const claude = isVertexClaude(model);
  const id = model.startsWith('models/') ? model.slice('models/'.length) : model;
  const method = claude ? (stream ? 'streamRawPredict' : 'rawPredict') : stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return `${trimSlashes(baseURL)}/v1/projects/${segment(project)}/locations/${segment(location)}/publishers/${claude ? 'anthropic' : 'google'}/models/${segment(id)}:${method}`;
}

export const vertexAdapter: ProviderAdapter = {
  name: 'vertex',

  buildRequest(kind, body, target, options) {
    if (kind !== 'chat') {
      throw new BadRequestError(`${kind} requests are not supported by vertex targets; route them to an OpenAI-compatible target`, 'model');
    }
    if (!target.project || !target.location) throw new BadRequestError('a vertex target needs a project and a location', 'model');
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: options.stream ? 'text/event-stream' : 'application/json',
    };
    let upstream: Record<string, unknown>;
    if (isVertexClaude(target.model)) {
      const { model: _model, ...rest } = toAnthropicBody(body, { model: target.model, stream: options.stream, maxTokens: target.maxTokens, ...VERTEX_CLAUDE });
      upstream = { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...rest };
    } else {
      upstream = toGeminiBody(body, target.model, 'vertex');
    }
    return { url: vertexURL(target.baseURL, target.project, target.location, target.model, options.stream), headers, body: JSON.stringify(upstream) };
  },

  async prepare(request, target, signal) {
    authModule ??= import('./vertex-auth.ts');
    return (await authModule).authorizeVertexRequest(request, target, signal);
  },

  parseResponse(_kind, _status, text, target, request) {
    if (isVertexClaude(target.model)) return parseAnthropicResponse(text, target.model, request ? responseShape(request) : undefined);
    return parseGeminiResponse(text, target.model, request ? usesLegacyFunctions(request) : false);
  },

  /**
   * Vertex's own refusals (auth, quota, a wrong path) are Google errors (`{"error":{"code","status"}}`)
   * for both publishers; Claude's own come in Anthropic's shape (`{"type":"error"}`).
   */
  parseError(status, text) {
    const parsed = tryParse(text);
    if (isObject(parsed) && parsed.type === 'error') return parseAnthropicError(status, text);
    return parseGeminiError(status, text);
  },

  createStreamDecoder: (target, request) => vertexDecoder(chunkText, target, request),
  createChunkDecoder: (target, request) => vertexDecoder(chunkObjects, target, request),
};
