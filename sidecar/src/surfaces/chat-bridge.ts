/**
 * A target reached through Chat Completions: wraps a provider's chat adapter
 * so that it takes and answers another API (Responses, Messages). The
 * client's request is translated to a Chat body once per request (cached by
 * the body object, since every try of the same request asks again); the
 * chat adapter builds the upstream request from it; what comes back (a
 * chat.completion, or chunks) is turned into the client's API by the
 * surface's translation. Errors need no translation: a ProviderError is in
 * no API's shape until the edge writes it.
 */
import { invalidBodyError, isObject, tryParse, type Json } from '../providers/common.ts';
import type { EndpointKind, ParsedResponse, ProviderAdapter, ProviderTarget, SseEvent, StreamDecoder, StreamStep, Usage } from '../providers/types.ts';
import type { ChatChunkEncoder, FramedStream, StreamErrorFields, SurfaceTranslation, TranslationContext } from './types.ts';

export function bridgedAdapter(translation: SurfaceTranslation, chat: ProviderAdapter, ctx: TranslationContext): ProviderAdapter {
  const chatBodies = new WeakMap<Json, Json>();
  const chatBodyOf = (body: Json): Json => {
    let c = chatBodies.get(body);
    if (c === undefined) {
      c = translation.toChat(body, ctx);
      chatBodies.set(body, c);
    }
    return c;
  };
  const bridged: ProviderAdapter = {
    name: chat.name,
    buildRequest(_kind: EndpointKind, body, target, options) {
      return chat.buildRequest('chat', chatBodyOf(body), target, options);
    },
    parseResponse(_kind, status, text, target, request): ParsedResponse {
      const body = request ?? {};
      const parsed = chat.parseResponse('chat', status, text, target, chatBodyOf(body));
      if (!parsed.ok) return parsed;
      const completion = tryParse(parsed.body);
      if (!isObject(completion)) return { ok: false, error: invalidBodyError('response') };
      return { ok: true, body: translation.fromChat(completion, body, ctx), usage: parsed.usage };
    },
    parseError: (status, text, headers) => chat.parseError(status, text, headers),
    createStreamDecoder(target: ProviderTarget, request: Json): StreamDecoder {
      const encoder = translation.streamEncoder(request, ctx);
      // The chat decoder hands its chunks over as objects (parsing them here would parse them twice).
      if (chat.createChunkDecoder) return new BridgedStreamDecoder(chat.createChunkDecoder(target, chatBodyOf(request)), encoder, asChunk);
      return new BridgedStreamDecoder(chat.createStreamDecoder(target, chatBodyOf(request)), encoder, parseChunk);
    },
  };
  // Signing and credentials (bedrock, vertex) are the chat adapter's, on the request it built.
  if (chat.prepare) bridged.prepare = (request, target, signal) => chat.prepare!(request, target, signal);
  return bridged;
}

const asChunk = (c: Json): Json => c;
const parseChunk = (text: string): Json | undefined => {
  const c = tryParse(text);
  return isObject(c) ? c : undefined;
};

/** Chat chunks from the target's decoder (`C`: text or objects, `read` makes them objects), re-encoded as the client's frames. */
class BridgedStreamDecoder<C> implements StreamDecoder, FramedStream {
  readonly #inner: StreamDecoder<C>;
  readonly #encoder: ChatChunkEncoder;
  readonly #read: (c: C) => Json | undefined;
  #usage: Usage | undefined;
  readonly framed: FramedStream = this;
  readonly end = '';

  /** Set when the chat decoder reads raw bytes (a binary event stream: bedrock). */
  readonly pushBytes?: (chunk: Buffer) => StreamStep[];

  constructor(inner: StreamDecoder<C>, encoder: ChatChunkEncoder, read: (c: C) => Json | undefined) {
    this.#inner = inner;
    this.#encoder = encoder;
    this.#read = read;
    if (inner.pushBytes) this.pushBytes = (chunk) => inner.pushBytes!(chunk).map((s) => this.#reencode(s));
  }

  push(event: SseEvent): StreamStep {
    return this.#reencode(this.#inner.push(event));
  }

  #reencode(step: StreamStep<C>): StreamStep {
    if (step.usage) this.#usage = step.usage;
    const out: string[] = [];
    for (const s of step.out) {
      const chunk = this.#read(s);
      if (chunk) for (const f of this.#encoder.chunk(chunk)) out.push(f);
    }
    if (step.error) return { ...step, out };
    if (step.finished) for (const f of this.#encoder.finish(this.#usage)) out.push(f);
    return { ...step, out };
  }

  error(e: StreamErrorFields): string {
    return this.#encoder.error(e);
  }

  result(): Json | undefined {
    return this.#encoder.result?.();
  }
}
