/**
 * The Messages API reached through Chat Completions: the SurfaceTranslation
 * of surfaces/types.ts, put together from its parts.
 */
import type { SurfaceTranslation } from '../types.ts';
import { messagesFromChat } from './from-chat.ts';
import { MessagesStreamEncoder } from './stream-encoder.ts';
import { messagesToChat } from './to-chat.ts';
import { messagesUnsupported } from './unsupported.ts';

export const messagesTranslation: SurfaceTranslation = {
  unsupported: messagesUnsupported,
  toChat: messagesToChat,
  fromChat: messagesFromChat,
  streamEncoder: (request, ctx) => new MessagesStreamEncoder(request, ctx),
};
