/**
 * Anthropic's streamed Messages events -> OpenAI chat.completion.chunk
 * objects. One decoder per response; it keeps the chunk id, created time and
 * model stable across the stream, numbers tool calls in their order of
 * appearance, and gathers usage (input from message_start, output from
 * message_delta).
 */
import { count, emptyStep, errorStep, invalidStreamEventError, isObject, str, tryParse, type Json } from './common.ts';
import { anthropicError, finishReason, promptTokens } from './anthropic-response.ts';
import { PLAIN_SHAPE, type ResponseShape } from './anthropic-request.ts';
import { StopCutter } from './stop-sequences.ts';
import type { ChunkWriter } from './chat-chunks.ts';
import type { SseEvent, StreamDecoder, StreamStep, Usage } from './types.ts';

/** `C`: chunks as JSON text (the Chat API) or objects (a bridge), as the writer makes them. */
export class AnthropicStreamDecoder<C = string> implements StreamDecoder<C> {
  readonly #includeUsage: boolean;
  /** Started at message_start, with Anthropic's message id and model. */
  readonly #chunks: ChunkWriter<C>;
  /** Content block index -> the tool call's ordinal among tool calls. */
  readonly #tools = new Map<number, number>();
  #prompt = 0;
  #completion = 0;
  #usageReported = false;
  /** Tool calls come back as a legacy function_call (the first one only). */
  readonly #legacy: boolean;
  /** Set when the client's stop has sequences Anthropic refuses: the text is cut here. */
  readonly #cutter: StopCutter | undefined;
  /** Deltas seen: the output token estimate when an emulated stop ends the stream before Anthropic counts. */
  #deltas = 0;
  /** An emulated stop sequence ended the stream: the rest is dropped. */
  #done = false;

  constructor(chunks: ChunkWriter<C>, shape: ResponseShape = PLAIN_SHAPE) {
    this.#chunks = chunks;
    this.#includeUsage = chunks.includeUsage;
    this.#legacy = shape.legacy;
    this.#cutter = shape.stops.length ? new StopCutter(shape.stops) : undefined;
  }

  push(event: SseEvent): StreamStep<C> {
    if (this.#done || event.data.trim() === '') return emptyStep();
    const ev = tryParse(event.data);
    if (!isObject(ev)) return errorStep(invalidStreamEventError());
    switch (str(ev.type) ?? event.event) {
      case 'message_start':
        return this.#messageStart(ev);
      case 'content_block_start':
        return this.#blockStart(ev);
      case 'content_block_delta':
        return this.#blockDelta(ev);
      case 'message_delta':
        return this.#messageDelta(ev);
      case 'message_stop': {
        const out = this.#includeUsage ? [this.#usageChunk()] : [];
        const usage = this.#usageReported ? undefined : this.#usage();
        this.#usageReported = true;
        return usage ? { out, content: false, finished: true, usage } : { out, content: false, finished: true };
      }
      case 'error':
        return errorStep(anthropicError(ev.error, undefined));
      default:
        // ping, content_block_stop, and event types added later: nothing to send.
        return emptyStep();
    }
  }

  #messageStart(ev: Json): StreamStep<C> {
    const msg = isObject(ev.message) ? ev.message : {};
    const id = str(msg.id);
    this.#chunks.start(id ? `chatcmpl-${id}` : undefined, str(msg.model));
    if (isObject(msg.usage)) this.#prompt = promptTokens(msg.usage);
    return { out: [this.#chunk({ role: 'assistant', content: '' }, null)], content: false, finished: false };
  }

  #blockStart(ev: Json): StreamStep<C> {
    const block = isObject(ev.content_block) ? ev.content_block : {};
    if (block.type === 'text') return this.#text(str(block.text));
    if (block.type === 'thinking') return this.#reasoning(str(block.thinking));
    if (block.type === 'tool_use') {
      const ordinal = this.#tools.size;
      if (this.#legacy && ordinal > 0) return emptyStep();
      this.#tools.set(count(ev.index), ordinal);
      const name = str(block.name) ?? '';
      const delta = this.#legacy
        ? { function_call: { name, arguments: '' } }
        : { tool_calls: [{ index: ordinal, id: str(block.id) ?? '', type: 'function', function: { name, arguments: '' } }] };
      // Text held back by the stop cutter goes first, in order.
      const held = this.#cutter?.flush();
      const out = held ? [this.#chunk({ content: held }, null)] : [];
      out.push(this.#chunk(delta, null));
      return { out, content: true, finished: false };
    }
    // redacted_thinking (encrypted) and server-tool blocks have no OpenAI counterpart.
    return emptyStep();
  }

  #blockDelta(ev: Json): StreamStep<C> {
    const delta = isObject(ev.delta) ? ev.delta : {};
    if (delta.type === 'text_delta') return this.#text(str(delta.text));
    if (delta.type === 'thinking_delta') return this.#reasoning(str(delta.thinking));
    if (delta.type === 'input_json_delta') {
      const ordinal = this.#tools.get(count(ev.index));
      const json = str(delta.partial_json);
      if (ordinal === undefined || !json) return emptyStep();
      this.#deltas++;
      const d = this.#legacy ? { function_call: { arguments: json } } : { tool_calls: [{ index: ordinal, function: { arguments: json } }] };
      return this.#content(d);
    }
    // signature_delta, citations_delta: dropped.
    return emptyStep();
  }

  /** Text, through the stop cutter when there is one; a stop sequence found ends the stream here. */
  #text(text: string | undefined): StreamStep<C> {
    if (!text) return emptyStep();
    this.#deltas++;
    if (!this.#cutter) return this.#content({ content: text });
    const now = this.#cutter.push(text);
    const out = now ? [this.#chunk({ content: now }, null)] : [];
    if (!this.#cutter.stopped) return { out, content: out.length > 0, finished: false };
    // As OpenAI does at a stop sequence: finish_reason stop, the usage chunk if asked for, the end.
    this.#done = true;
    out.push(this.#chunk({}, 'stop'));
    if (!this.#completion) this.#completion = this.#deltas;
    if (this.#includeUsage) out.push(this.#usageChunk());
    this.#usageReported = true;
    return { out, content: true, finished: true, usage: this.#usage() };
  }

  /**
   * Extended thinking goes out as reasoning_content, as other gateways send
   * it. It is not content: the commit point is the answer's first text or
   * tool call (thinking comes before it, within the firstContent timeout).
   */
  #reasoning(text: string | undefined): StreamStep<C> {
    if (!text) return emptyStep();
    this.#deltas++;
    return { out: [this.#chunk({ reasoning_content: text }, null)], content: false, finished: false };
  }

  #messageDelta(ev: Json): StreamStep<C> {
    const u = isObject(ev.usage) ? ev.usage : undefined;
    let usage: Usage | undefined;
    if (u) {
      // Counts in message_delta are cumulative; newer API versions repeat the input counts here too.
      if (typeof u.input_tokens === 'number') this.#prompt = promptTokens(u);
      this.#completion = count(u.output_tokens);
      usage = this.#usage();
      this.#usageReported = true;
    }
    const stop = isObject(ev.delta) ? ev.delta.stop_reason : undefined;
    const held = this.#cutter?.flush();
    const out = held ? [this.#chunk({ content: held }, null)] : [];
    if (stop != null) out.push(this.#chunk({}, this.#legacy && stop === 'tool_use' ? 'function_call' : finishReason(stop)));
    return usage ? { out, content: false, finished: false, usage } : { out, content: false, finished: false };
  }

  #chunk(delta: Json, finish: string | null): C {
    return this.#chunks.chunk(delta, finish);
  }

  #content(delta: Json): StreamStep<C> {
    return { out: [this.#chunk(delta, null)], content: true, finished: false };
  }

  #usage(): Usage {
    return { prompt: this.#prompt, completion: this.#completion };
  }

  #usageChunk(): C {
    return this.#chunks.usage({ prompt_tokens: this.#prompt, completion_tokens: this.#completion, total_tokens: this.#prompt + this.#completion });
  }
}
