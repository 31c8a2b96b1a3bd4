/**
 * Anthropic's Messages API on the sidecar (POST /v1/messages and
 * /v1/messages/count_tokens): how a request reaches each target. Natively to
 * `anthropic` targets; to every other target through Chat Completions,
 * unless it uses what Chat cannot express (server tools, say). count_tokens
 * is counted natively by anthropic targets only; the API edge answers the
 * documented estimate when none can (count-tokens-estimate.ts).
 */
import type { Json } from '../providers/common.ts';
import type { EndpointKind, ProviderAdapter, ProviderName } from '../providers/types.ts';
import { messagesNative } from './messages/native.ts';
import { messagesTranslation } from './messages/translation.ts';
import { reachFor, type Reach, type SurfaceCodecs, type TargetReach } from './target-reach.ts';

export const MESSAGES_CODECS: SurfaceCodecs = {
  translation: messagesTranslation,
  native: (target) => (target.provider === 'anthropic' ? messagesNative : undefined),
};

const NOT_COUNTED: Reach = { unsupported: 'count_tokens is counted only by anthropic targets' };

export function messagesReach(kind: EndpointKind, body: Json, adapterFor: (p: ProviderName) => ProviderAdapter): TargetReach {
  if (kind === 'count-tokens') {
    const native: Reach = { adapter: messagesNative, body };
    return (target) => (target.provider === 'anthropic' ? native : NOT_COUNTED);
  }
  return reachFor(MESSAGES_CODECS, body, adapterFor);
}

export { toMessagesError as anthropicErrorResponse } from './messages/messages-errors.ts';
export { estimateInputTokens } from './messages/count-tokens-estimate.ts';
