/**
 * The inbound APIs ("surfaces") the sidecar serves on one port: OpenAI's Chat
 * Completions (with embeddings and legacy completions), OpenAI's Responses
 * API and Anthropic's Messages API. A surface is reached by a target in one
 * of two ways:
 *
 *   native      the target speaks the client's API itself (Responses to
 *               openai/azure-openai, Messages to anthropic): the body goes
 *               out with its model rewritten, and what comes back is passed
 *               on as received, read only for usage, errors and the commit
 *               point. A native codec is a ProviderAdapter whose stream
 *               decoder is `framed` (its `out` are whole SSE frames).
 *   translated  through Chat Completions, the sidecar's pivot: the request
 *               goes to Chat (`SurfaceTranslation.toChat`), then through
 *               the target's own chat adapter; the answer comes back as
 *               chat JSON or chunks and is turned into the client's API
 *               (`fromChat`, `ChatChunkEncoder`).
 *
 * Everything here is pure: no I/O, no timers, clocks and ids injected.
 */
import type { Json } from '../providers/common.ts';
import type { ErrorClass } from '../error-classes.ts';
import type { Usage } from '../providers/types.ts';

/** The inbound API a client spoke; the `api` label of the request metrics. */
export type ApiName = 'chat' | 'responses' | 'messages';

/** The fields of an error in OpenAI's shape (what error-table.ts rows give). */
export interface ErrorFields {
  message: string;
  type: string;
  code: string | null;
  param: string | null;
}

/** An error that ends a committed stream, with the class behind it. */
export interface StreamErrorFields extends ErrorFields {
  errorClass: ErrorClass;
  /** The HTTP status the error would have had as a whole answer (Messages maps it to its error.type). */
  status: number;
}

/** Ids and clock a translation needs, injected so tests pin them. */
export interface TranslationContext {
  /** A fresh id with the API's prefix, e.g. newId('resp') → 'resp_…', newId('msg') → 'msg_…'. */
  newId: (prefix: string) => string;
  /** Seconds since the epoch (created_at). */
  nowSeconds: () => number;
}

/**
 * How a client's API reaches a target through Chat Completions. `unsupported`
 * is asked first; when it names a feature the target is skipped (attempt
 * class `unsupported`), so `toChat` may assume the request translates.
 */
export interface SurfaceTranslation {
  /**
   * What in the request a chat-translated target cannot serve, as a short
   * phrase for the client's 400 and the attempts list ("OpenAI built-in tool
   * 'web_search'", "`background: true`"); undefined when it translates.
   */
  unsupported(body: Json): string | undefined;
  /** The Chat Completions body (its `model` is left as the client's; the chat adapter rewrites it). */
  toChat(body: Json, ctx: TranslationContext): Json;
  /** The client's response JSON (serialised) from a chat.completion object. */
  fromChat(chat: Json, request: Json, ctx: TranslationContext): string;
  /** A fresh encoder for one stream. */
  streamEncoder(request: Json, ctx: TranslationContext): ChatChunkEncoder;
}

/** Turns one stream of chat.completion.chunk objects into the client's SSE frames. */
export interface ChatChunkEncoder {
  /** Frames (whole `event: …\ndata: …\n\n` texts) for one chunk. */
  chunk(chunk: Json): string[];
  /** Frames that end a clean stream (the chat stream finished); `usage` if it was reported. */
  finish(usage: Usage | undefined): string[];
  /** The frame(s) that end a stream broken after its commit point, in the client's protocol. */
  error(e: StreamErrorFields): string;
  /** After `finish`: the whole answer it described (Responses: the response object), for the response store. */
  result?(): Json | undefined;
}

/**
 * A stream decoder whose `out` are whole SSE frames in the client's protocol
 * (native and translated Responses/Messages streams). A decoder without it is
 * a chat decoder: `out` are chunk JSON texts framed as `data: …\n\n` and a
 * clean end is `data: [DONE]`.
 */
export interface FramedStream {
  /** Text written after the last frames of a clean end ('' for Responses and Messages). */
  readonly end: string;
  /** The frame(s) that end a stream broken after its commit point. */
  error(e: StreamErrorFields): string;
  /** After a clean end: the whole answer the stream described (Responses: the final response object), if the decoder keeps it. */
  result?(): Json | undefined;
}
