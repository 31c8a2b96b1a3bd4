/**
 * The Responses API through Chat Completions (surfaces/types.ts): what
 * cannot translate, the request, the whole answer and the stream.
 */
import type { SurfaceTranslation } from '../types.ts';
import { responseFromChat } from './from-chat.ts';
import { ResponsesChunkEncoder } from './stream-encoder.ts';
import { toChatBody } from './to-chat.ts';
import { unsupportedFeature } from './unsupported.ts';

export const responsesTranslation: SurfaceTranslation = {
  unsupported: unsupportedFeature,
  toChat: (body) => toChatBody(body),
  fromChat: (chat, request, ctx) => JSON.stringify(responseFromChat(chat, request, ctx)),
  streamEncoder: (request, ctx) => new ResponsesChunkEncoder(request, ctx),
};
