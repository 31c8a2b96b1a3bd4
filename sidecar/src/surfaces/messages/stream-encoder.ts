/**
 * A stream of chat.completion.chunk objects -> the Messages API's stream
 * events (ChatChunkEncoder), in the order Anthropic sends them:
 *
 *   message_start, ping,
 *   per block: content_block_start, content_block_delta…, content_block_stop
 *     (thinking: thinking_delta…, then a signature_delta with UNSIGNED;
 *      text: text_delta…; tool_use: input_json_delta with partial_json),
 *   message_delta (stop_reason, stop_sequence, usage), message_stop.
 *
 * One block is open at a time, as Anthropic has it: a block of another kind,
 * or a new tool call (Chat's `tool_calls[].index`), closes the open one.
 * Chat servers send a call's arguments before the next call starts; should
 * one interleave them anyway, a late piece goes out as an input_json_delta
 * with its own block's index (the SDKs' accumulators append by index).
 * message_start cannot know the input tokens (Chat reports usage at the
 * end): it says 0, and message_delta carries the counts (the SDKs take
 * input_tokens from message_delta when it has them).
 */
import { isObject, str, type Json } from '../../providers/common.ts';
import type { Usage } from '../../providers/types.ts';
import type { ChatChunkEncoder, StreamErrorFields, TranslationContext } from '../types.ts';
import { matchedStop, messagesUsage, stopReason, stopSequences } from './answer-fields.ts';
import { errorFrame, frame } from './frames.ts';
import { UNSIGNED } from './from-chat.ts';

type BlockKind = 'text' | 'thinking' | 'tool_use';

const PING = frame('ping', '{"type":"ping"}');

export class MessagesStreamEncoder implements ChatChunkEncoder {
  readonly #request: Json;
  readonly #ctx: TranslationContext;
  readonly #stops: string[];
  readonly #tailLength: number;
  #started = false;
  #next = 0;
  #open: { kind: BlockKind; index: number } | undefined;
  /** Chat tool call index -> its block's index. */
  readonly #tools = new Map<number, number>();
  #finish: unknown = null;
  #stopSequence: string | undefined;
  #usage: unknown;
  /** The end of the text so far, long enough to hold the longest stop sequence. */
  #tail = '';

  constructor(request: Json, ctx: TranslationContext) {
    this.#request = request;
    this.#ctx = ctx;
    this.#stops = stopSequences(request);
    this.#tailLength = this.#stops.reduce((n, s) => Math.max(n, s.length), 0);
  }

  chunk(chunk: Json): string[] {
    const out: string[] = [];
    this.#start(out);
    if (isObject(chunk.usage)) this.#usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) && isObject(chunk.choices[0]) ? chunk.choices[0] : undefined;
    if (!choice) return out;
    const delta = isObject(choice.delta) ? choice.delta : {};
    const reasoning = str(delta.reasoning_content) || str(delta.reasoning);
    if (reasoning) this.#delta(out, 'thinking', `{"type":"thinking_delta","thinking":${JSON.stringify(reasoning)}}`);
    const text = str(delta.content) || str(delta.refusal);
    if (text) {
      this.#delta(out, 'text', `{"type":"text_delta","text":${JSON.stringify(text)}}`);
      if (this.#tailLength) this.#tail = (this.#tail + text).slice(-this.#tailLength);
    }
    if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) if (isObject(call)) this.#toolCall(out, call);
    if (choice.finish_reason != null) {
      this.#finish = choice.finish_reason;
      if (choice.finish_reason === 'stop') this.#stopSequence = matchedStop(this.#stops, choice, this.#tail);
      this.#close(out);
    }
    return out;
  }

  finish(usage: Usage | undefined): string[] {
    const out: string[] = [];
    this.#start(out);
    this.#close(out);
    const u = this.#usage ?? (usage ? { prompt_tokens: usage.prompt, completion_tokens: usage.completion } : undefined);
    const messageDelta = {
      type: 'message_delta',
      delta: { stop_reason: stopReason(this.#finish, this.#stopSequence), stop_sequence: this.#stopSequence ?? null },
      usage: messagesUsage(u),
    };
    out.push(frame('message_delta', JSON.stringify(messageDelta)), frame('message_stop', '{"type":"message_stop"}'));
    return out;
  }

  error(e: StreamErrorFields): string {
    return errorFrame(e);
  }

  #start(out: string[]): void {
    if (this.#started) return;
    this.#started = true;
    const message = {
      id: this.#ctx.newId('msg'),
      type: 'message',
      role: 'assistant',
      model: str(this.#request.model) ?? '',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    out.push(frame('message_start', JSON.stringify({ type: 'message_start', message })), PING);
  }

  /** A delta for the open block of `kind`, opening one (and closing another) when needed. */
  #delta(out: string[], kind: 'text' | 'thinking', delta: string): void {
    if (this.#open?.kind !== kind) {
      this.#close(out);
      const block = kind === 'text' ? '{"type":"text","text":""}' : `{"type":"thinking","thinking":"","signature":${JSON.stringify(UNSIGNED)}}`;
      this.#begin(out, kind, block);
    }
    out.push(frame('content_block_delta', `{"type":"content_block_delta","index":${this.#open!.index},"delta":${delta}}`));
  }

  #toolCall(out: string[], call: Json): void {
    const chatIndex = typeof call.index === 'number' ? call.index : 0;
    const fn = isObject(call.function) ? call.function : {};
    let index = this.#tools.get(chatIndex);
    if (index === undefined) {
      this.#close(out);
      const id = str(call.id) || this.#ctx.newId('toolu');
      this.#begin(out, 'tool_use', JSON.stringify({ type: 'tool_use', id, name: str(fn.name) ?? '', input: {} }));
      index = this.#open!.index;
      this.#tools.set(chatIndex, index);
    }
    const args = str(fn.arguments);
    if (args) {
      out.push(frame('content_block_delta', `{"type":"content_block_delta","index":${index},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(args)}}}`));
    }
  }

  #begin(out: string[], kind: BlockKind, block: string): void {
    const index = this.#next++;
    this.#open = { kind, index };
    out.push(frame('content_block_start', `{"type":"content_block_start","index":${index},"content_block":${block}}`));
  }

  #close(out: string[]): void {
    const open = this.#open;
    if (!open) return;
    if (open.kind === 'thinking') {
      out.push(frame('content_block_delta', `{"type":"content_block_delta","index":${open.index},"delta":{"type":"signature_delta","signature":${JSON.stringify(UNSIGNED)}}}`));
    }
    out.push(frame('content_block_stop', `{"type":"content_block_stop","index":${open.index}}`));
    this.#open = undefined;
  }
}
