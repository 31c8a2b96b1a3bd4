/**
 * The `bedrock` adapter: OpenAI's chat API served by Amazon Bedrock's
 * Converse API (`POST {endpoint}/model/{modelId}/converse`, `/converse-stream`).
 * Translation: bedrock-request.ts; responses and errors: bedrock-response.ts;
 * streams (binary event-stream frames): bedrock-stream.ts with
 * bedrock-codec.ts; credentials and SigV4: bedrock-auth.ts.
 *
 * No cost for routes without bedrock targets: bedrock-auth.ts and
 * bedrock-codec.ts, and with them the AWS libraries, are imported on the
 * first bedrock request (`prepare`, before any stream is read), then kept.
 */
import { BadRequestError } from '../errors.ts';
import { trimSlashes } from './common.ts';
import { clientWantsUsage } from './openai.ts';
import { usesLegacyFunctions } from './anthropic-request.ts';
import { toConverseBody } from './bedrock-request.ts';
import { parseBedrockError, parseConverseResponse } from './bedrock-response.ts';
import { BedrockStreamDecoder } from './bedrock-stream.ts';
import { chunkObjects, chunkText } from './chat-chunks.ts';
import type { ProviderAdapter } from './types.ts';

type AuthModule = typeof import('./bedrock-auth.ts');
type CodecModule = typeof import('./bedrock-codec.ts');

let modules: Promise<[AuthModule, CodecModule]> | undefined;
let codec: CodecModule | undefined;

/** The frame reader of a stream's body, from the codec prepare loaded. */
function frameReader(): InstanceType<CodecModule['FrameReader']> {
  if (!codec) throw new Error('the bedrock event-stream codec is not loaded (prepare was not called)');
  return new codec.FrameReader();
}

/** The AWS side of the adapter, imported once on first use. */
function loadModules(): Promise<[AuthModule, CodecModule]> {
  modules ??= Promise.all([import('./bedrock-auth.ts'), import('./bedrock-codec.ts')]).then((m) => {
    codec = m[1];
    return m;
  });
  return modules;
}

/** The Converse URL of a model under an endpoint (model ids such as `anthropic.claude-…-v1:0` and ARNs are one path segment). */
export function converseURL(endpoint: string, model: string, stream: boolean): string {
  return `${trimSlashes(endpoint)}/model/${encodeURIComponent(model)}/${stream ? 'converse-stream' : 'converse'}`;
}

export const bedrockAdapter: ProviderAdapter = {
  name: 'bedrock',

  buildRequest(kind, body, target, options) {
    if (kind !== 'chat') {
      throw new BadRequestError(`${kind} requests are not supported by bedrock targets; route them to an OpenAI-compatible target`, 'model');
    }
    return {
      url: converseURL(target.baseURL, target.model, options.stream),
      headers: { 'content-type': 'application/json', accept: options.stream ? 'application/vnd.amazon.eventstream' : 'application/json' },
      body: JSON.stringify(toConverseBody(body, target.maxTokens)),
    };
  },

  async prepare(request, target, signal) {
    const [auth] = await loadModules();
    return auth.authorizeBedrockRequest(request, target, signal);
  },

  parseResponse(_kind, _status, text, target, request) {
    return parseConverseResponse(text, target.model, request ? usesLegacyFunctions(request) : false);
  },

  parseError: parseBedrockError,

  createStreamDecoder: (target, request) => new BedrockStreamDecoder(chunkText(target.model, clientWantsUsage(request)), usesLegacyFunctions(request), frameReader),
  createChunkDecoder: (target, request) => new BedrockStreamDecoder(chunkObjects(target.model, clientWantsUsage(request)), usesLegacyFunctions(request), frameReader),
};
