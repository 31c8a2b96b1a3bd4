/**
 * Bedrock ConverseStream frames -> OpenAI chat.completion.chunk objects.
 * The body is binary (bedrock-codec.ts cuts it into frames): each event
 * frame's `:event-type` is messageStart, contentBlockStart,
 * contentBlockDelta, contentBlockStop, messageStop or metadata, its payload
 * the event's JSON. An `:message-type` `exception` frame (`:exception-type`
 * throttlingException, modelStreamErrorException, …) or `error` frame
 * (`:error-code`) is an error: before the commit point the attempt fails
 * over on its class, after it the relay ends the stream with an error event.
 */
import { count, emptyStep, errorStep, invalidStreamEventError, isObject, str, tryParse, type Json } from './common.ts';
import { bedrockError, converseUsage, errorTypeName, finishFor, refusalFor } from './bedrock-response.ts';
import type { Frame } from './bedrock-codec.ts';
import type { ChunkWriter } from './chat-chunks.ts';
import type { SseEvent, StreamDecoder, StreamStep, Usage } from './types.ts';

/** What the decoder reads frames with: bedrock-codec.ts's FrameReader. */
export interface FrameSource {
  push(chunk: Buffer): Frame[];
}

/** `C`: chunks as JSON text (the Chat API) or objects (a bridge), as the writer makes them. */
export class BedrockStreamDecoder<C = string> implements StreamDecoder<C> {
  /** Converse names no message id: a fresh one, and the target's model. */
  readonly #chunks: ChunkWriter<C>;
  readonly #legacy: boolean;
  readonly #newReader: () => FrameSource;
  #reader: FrameSource | undefined;
  /** Content block index -> the tool call's ordinal. */
  readonly #tools = new Map<number, number>();
  #finish: string | undefined;
  #usage: Usage | undefined;
  #done = false;

  constructor(chunks: ChunkWriter<C>, legacy: boolean, newReader: () => FrameSource) {
    this.#chunks = chunks;
    this.#legacy = legacy;
    this.#newReader = newReader;
    chunks.start(undefined, undefined);
  }

  /** An SSE event: Bedrock never sends one, so a body that parses as SSE is not Bedrock's stream. */
  push(_event: SseEvent): StreamStep<C> {
    return errorStep(invalidStreamEventError());
  }

  pushBytes(chunk: Buffer): StreamStep<C>[] {
    this.#reader ??= this.#newReader();
    if (this.#done) return [];
    return this.#reader.push(chunk).map((f) => this.#frame(f));
  }

  #frame(f: Frame): StreamStep<C> {
    if (this.#done) return emptyStep();
    const kind = f.headers[':message-type'];
    const payload = Buffer.from(f.body.buffer, f.body.byteOffset, f.body.byteLength).toString('utf8');
    if (kind === 'exception') {
      const body = tryParse(payload);
      return errorStep(bedrockError(errorTypeName(f.headers[':exception-type']), isObject(body) ? str(body.message) : undefined, undefined));
    }
    if (kind === 'error') return errorStep(bedrockError(errorTypeName(f.headers[':error-code']), f.headers[':error-message'], undefined));
    const ev = tryParse(payload);
    if (!isObject(ev)) return errorStep(invalidStreamEventError());
    switch (f.headers[':event-type']) {
      case 'messageStart':
        return { out: [this.#chunks.chunk({ role: 'assistant', content: '' }, null)], content: false, finished: false };
      case 'contentBlockStart':
        return this.#blockStart(ev);
      case 'contentBlockDelta':
        return this.#blockDelta(ev);
      case 'messageStop':
        return this.#messageStop(ev);
      case 'metadata':
        return this.#metadata(ev);
      default:
        // contentBlockStop, and event types added later.
        return emptyStep();
    }
  }

  #blockStart(ev: Json): StreamStep<C> {
    const start = isObject(ev.start) ? ev.start : {};
    if (!isObject(start.toolUse)) return emptyStep();
    const ordinal = this.#tools.size;
    if (this.#legacy && ordinal > 0) return emptyStep();
    this.#tools.set(count(ev.contentBlockIndex), ordinal);
    const name = str(start.toolUse.name) ?? '';
    const delta = this.#legacy
      ? { function_call: { name, arguments: '' } }
      : { tool_calls: [{ index: ordinal, id: str(start.toolUse.toolUseId) ?? '', type: 'function', function: { name, arguments: '' } }] };
    return { out: [this.#chunks.chunk(delta, null)], content: true, finished: false };
  }

  #blockDelta(ev: Json): StreamStep<C> {
    const delta = isObject(ev.delta) ? ev.delta : {};
    if (typeof delta.text === 'string') {
      return delta.text ? { out: [this.#chunks.chunk({ content: delta.text }, null)], content: true, finished: false } : emptyStep();
    }
    if (isObject(delta.toolUse)) {
      const ordinal = this.#tools.get(count(ev.contentBlockIndex));
      const input = str(delta.toolUse.input);
      if (ordinal === undefined || !input) return emptyStep();
      const d = this.#legacy ? { function_call: { arguments: input } } : { tool_calls: [{ index: ordinal, function: { arguments: input } }] };
      return { out: [this.#chunks.chunk(d, null)], content: true, finished: false };
    }
    if (isObject(delta.reasoningContent) && typeof delta.reasoningContent.text === 'string' && delta.reasoningContent.text) {
      return { out: [this.#chunks.chunk({ reasoning_content: delta.reasoningContent.text }, null)], content: false, finished: false };
    }
    return emptyStep();
  }

  #messageStop(ev: Json): StreamStep<C> {
    const stop = str(ev.stopReason) ?? 'end_turn';
    let finish = finishFor(stop);
    if (this.#legacy && finish === 'tool_calls') finish = 'function_call';
    this.#finish = finish;
    const out: C[] = [];
    let content = false;
    if (finish === 'content_filter') {
      out.push(this.#chunks.chunk({ refusal: refusalFor(stop) }, null));
      content = true;
    }
    out.push(this.#chunks.chunk({}, finish));
    return { out, content, finished: false };
  }

  /** The last event: usage. The stream is finished here (messageStop comes just before it). */
  #metadata(ev: Json): StreamStep<C> {
    const u = converseUsage(ev.usage);
    this.#usage = u.usage;
    const out = this.#chunks.includeUsage ? [this.#chunks.usage(u.openai)] : [];
    this.#done = this.#finish !== undefined;
    return { out, content: false, finished: this.#done, usage: this.#usage };
  }
}
