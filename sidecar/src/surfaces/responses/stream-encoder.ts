/**
 * A chat.completion.chunk stream as the Responses API's event stream, in the
 * order the real API sends it, `sequence_number` from 0:
 *
 *   response.created, response.in_progress
 *   per output item, in output_index order of first appearance:
 *     reasoning (reasoning_content deltas): output_item.added,
 *       reasoning_summary_part.added, reasoning_summary_text.delta…,
 *       reasoning_summary_text.done, reasoning_summary_part.done, output_item.done
 *     message: output_item.added, then per part (output_text or refusal)
 *       content_part.added, output_text.delta… / refusal.delta…,
 *       output_text.done / refusal.done, content_part.done; output_item.done
 *     function_call (one per chat tool-call index; several may be open at
 *       once): output_item.added, function_call_arguments.delta…,
 *       function_call_arguments.done, output_item.done
 *   response.completed, or response.incomplete (finish_reason length or
 *   content_filter), with the whole Response object.
 *
 * An item stays open until another kind of item starts (reasoning before
 * text before tool calls is the usual order) or the stream finishes.
 */
import { isObject, str, type Json } from '../../providers/common.ts';
import type { Usage } from '../../providers/types.ts';
import type { ChatChunkEncoder, StreamErrorFields, TranslationContext } from '../types.ts';
import { functionCallItem, outputTextPart, reasoningItem } from './from-chat.ts';
import { answerModel, incompleteReason, reasoningText, responseObject, responsesLogprobs, responsesUsage, type ResponseStatus } from './response-object.ts';
import { streamErrorFrames } from './stream-error.ts';

interface ReasoningState {
  index: number;
  id: string;
  text: string;
  /** The delta events' fixed fields, as JSON text (#emitDelta). */
  at: string;
}

interface PartState {
  kind: 'text' | 'refusal';
  text: string;
  logprobs: Json[];
  /** The delta events' fixed fields, as JSON text (#emitDelta). */
  at: string;
}

interface MessageState {
  index: number;
  id: string;
  parts: Json[];
  part: PartState | undefined;
}

interface CallState {
  index: number;
  id: string;
  callId: string;
  name: string;
  args: string;
  /** The delta events' fixed fields, as JSON text (#emitDelta). */
  at: string;
}

function partJson(p: PartState): Json {
  return p.kind === 'text' ? outputTextPart(p.text, p.logprobs) : { type: 'refusal', refusal: p.text };
}

export class ResponsesChunkEncoder implements ChatChunkEncoder {
  readonly #request: Json;
  readonly #ctx: TranslationContext;
  readonly #id: string;
  readonly #createdAt: number;
  #model: string;
  #seq = 0;
  #started = false;
  #nextIndex = 0;
  /** Finished items by output_index. */
  readonly #done: Json[] = [];
  #reasoning: ReasoningState | undefined;
  #message: MessageState | undefined;
  readonly #calls = new Map<number, CallState>();
  #finishReason: unknown;
  #chatUsage: Json | undefined;
  /** The response of response.completed/incomplete, once finish has run. */
  #final: Json | undefined;

  constructor(request: Json, ctx: TranslationContext) {
    this.#request = request;
    this.#ctx = ctx;
    this.#id = ctx.newId('resp');
    this.#createdAt = ctx.nowSeconds();
    this.#model = answerModel(undefined, request);
  }

  chunk(chunk: Json): string[] {
    const out: string[] = [];
    if (!this.#started && typeof chunk.model === 'string' && chunk.model) this.#model = chunk.model;
    this.#start(out);
    if (isObject(chunk.usage)) this.#chatUsage = chunk.usage;
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((c) => isObject(c) && (c.index ?? 0) === 0) : undefined;
    if (!isObject(choice)) return out;
    const delta = isObject(choice.delta) ? choice.delta : {};
    const reasoning = reasoningText(delta);
    if (reasoning !== undefined) this.#reasoningDelta(out, reasoning);
    if (typeof delta.content === 'string' && delta.content.length > 0) this.#partDelta(out, 'text', delta.content, responsesLogprobs(choice.logprobs));
    if (typeof delta.refusal === 'string' && delta.refusal.length > 0) this.#partDelta(out, 'refusal', delta.refusal, []);
    if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) if (isObject(tc)) this.#callDelta(out, tc);
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) this.#finishReason = choice.finish_reason;
    return out;
  }

  finish(usage: Usage | undefined): string[] {
    const out: string[] = [];
    this.#start(out);
    const reason = incompleteReason(this.#finishReason);
    const itemStatus = reason ? 'incomplete' : 'completed';
    this.#closeReasoning(out);
    this.#closeMessage(out, itemStatus);
    this.#closeCalls(out);
    const response = this.#response(reason ? 'incomplete' : 'completed', this.#done.slice(), responsesUsage(this.#chatUsage, usage), reason);
    this.#final = response;
    this.#emit(out, reason ? 'response.incomplete' : 'response.completed', { response });
    return out;
  }

  result(): Json | undefined {
    return this.#final;
  }

  error(e: StreamErrorFields): string {
    const out: string[] = [];
    this.#start(out);
    const response = this.#response('in_progress', this.#snapshot(), responsesUsage(this.#chatUsage), undefined);
    out.push(streamErrorFrames(e, this.#seq, response));
    this.#seq += 2;
    return out.join('');
  }

  // ------------------------------------------------------------ internals

  #emit(out: string[], type: string, fields: Json): void {
    out.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.#seq++, ...fields })}\n\n`);
  }

  /**
   * A delta event (`response.output_text.delta` and the like), the one frame of every chunk: written
   * as text around the item's fixed fields (`at`: `"item_id":…,"output_index":…[,"content_index":…]`,
   * made once per part), so no object is built and spread per chunk. Same bytes as #emit's.
   */
  #emitDelta(out: string[], type: string, at: string, delta: string, tail = ''): void {
    out.push(`event: ${type}\ndata: {"type":"${type}","sequence_number":${this.#seq++},${at},"delta":${JSON.stringify(delta)}${tail}}\n\n`);
  }

  #response(status: ResponseStatus, output: Json[], usage: Json | null, reason: string | undefined): Json {
    return responseObject(this.#request, { id: this.#id, createdAt: this.#createdAt, status, model: this.#model, output, usage, incompleteReason: reason });
  }

  #start(out: string[]): void {
    if (this.#started) return;
    this.#started = true;
    // Both events carry the same response: it is serialised once.
    const response = JSON.stringify(this.#response('in_progress', [], null, undefined));
    out.push(`event: response.created\ndata: {"type":"response.created","sequence_number":${this.#seq++},"response":${response}}\n\n`);
    out.push(`event: response.in_progress\ndata: {"type":"response.in_progress","sequence_number":${this.#seq++},"response":${response}}\n\n`);
  }

  /** Every item as it stands (finished ones and open ones), in output_index order. */
  #snapshot(): Json[] {
    const items: Json[] = this.#done.slice();
    if (this.#reasoning) items[this.#reasoning.index] = { id: this.#reasoning.id, type: 'reasoning', summary: [{ type: 'summary_text', text: this.#reasoning.text }] };
    const m = this.#message;
    if (m) items[m.index] = { id: m.id, type: 'message', status: 'in_progress', content: m.part ? [...m.parts, partJson(m.part)] : m.parts, role: 'assistant' };
    for (const c of this.#calls.values()) items[c.index] = functionCallItem(c.id, c.callId, c.name, c.args, 'in_progress');
    return items.filter((i) => i !== undefined);
  }

  #reasoningDelta(out: string[], text: string): void {
    let r = this.#reasoning;
    if (!r) {
      this.#closeMessage(out, 'completed');
      const index = this.#nextIndex++;
      const id = this.#ctx.newId('rs');
      r = { index, id, text: '', at: `"item_id":${JSON.stringify(id)},"output_index":${index},"summary_index":0` };
      this.#reasoning = r;
      this.#emit(out, 'response.output_item.added', { output_index: r.index, item: { id: r.id, type: 'reasoning', summary: [] } });
      this.#emit(out, 'response.reasoning_summary_part.added', { item_id: r.id, output_index: r.index, summary_index: 0, part: { type: 'summary_text', text: '' } });
    }
    r.text += text;
    this.#emitDelta(out, 'response.reasoning_summary_text.delta', r.at, text);
  }

  #closeReasoning(out: string[]): void {
    const r = this.#reasoning;
    if (!r) return;
    this.#reasoning = undefined;
    this.#emit(out, 'response.reasoning_summary_text.done', { item_id: r.id, output_index: r.index, summary_index: 0, text: r.text });
    this.#emit(out, 'response.reasoning_summary_part.done', { item_id: r.id, output_index: r.index, summary_index: 0, part: { type: 'summary_text', text: r.text } });
    const item = reasoningItem(r.id, r.text);
    this.#done[r.index] = item;
    this.#emit(out, 'response.output_item.done', { output_index: r.index, item });
  }

  #partDelta(out: string[], kind: PartState['kind'], text: string, logprobs: Json[]): void {
    this.#closeReasoning(out);
    let m = this.#message;
    if (!m) {
      m = { index: this.#nextIndex++, id: this.#ctx.newId('msg'), parts: [], part: undefined };
      this.#message = m;
      this.#emit(out, 'response.output_item.added', { output_index: m.index, item: { id: m.id, type: 'message', status: 'in_progress', content: [], role: 'assistant' } });
    }
    if (m.part && m.part.kind !== kind) this.#closePart(out, m);
    let p = m.part;
    if (!p) {
      p = { kind, text: '', logprobs: [], at: `"item_id":${JSON.stringify(m.id)},"output_index":${m.index},"content_index":${m.parts.length}` };
      m.part = p;
      this.#emit(out, 'response.content_part.added', { item_id: m.id, output_index: m.index, content_index: m.parts.length, part: partJson(p) });
    }
    p.text += text;
    if (kind === 'text') {
      for (const l of logprobs) p.logprobs.push(l);
      this.#emitDelta(out, 'response.output_text.delta', p.at, text, logprobs.length === 0 ? ',"logprobs":[]' : `,"logprobs":${JSON.stringify(logprobs)}`);
    } else {
      this.#emitDelta(out, 'response.refusal.delta', p.at, text);
    }
  }

  #closePart(out: string[], m: MessageState): void {
    const p = m.part;
    if (!p) return;
    m.part = undefined;
    const at = { item_id: m.id, output_index: m.index, content_index: m.parts.length };
    if (p.kind === 'text') this.#emit(out, 'response.output_text.done', { ...at, text: p.text, logprobs: p.logprobs });
    else this.#emit(out, 'response.refusal.done', { ...at, refusal: p.text });
    const part = partJson(p);
    this.#emit(out, 'response.content_part.done', { ...at, part });
    m.parts.push(part);
  }

  #closeMessage(out: string[], status: 'completed' | 'incomplete'): void {
    const m = this.#message;
    if (!m) return;
    this.#closePart(out, m);
    this.#message = undefined;
    const item = { id: m.id, type: 'message', status, content: m.parts, role: 'assistant' };
    this.#done[m.index] = item;
    this.#emit(out, 'response.output_item.done', { output_index: m.index, item });
  }

  #callDelta(out: string[], tc: Json): void {
    const key = typeof tc.index === 'number' ? tc.index : 0;
    const fn = isObject(tc.function) ? tc.function : {};
    let c = this.#calls.get(key);
    if (!c) {
      this.#closeReasoning(out);
      this.#closeMessage(out, 'completed');
      const index = this.#nextIndex++;
      const id = this.#ctx.newId('fc');
      c = { index, id, callId: str(tc.id) ?? this.#ctx.newId('call'), name: str(fn.name) ?? '', args: '', at: `"item_id":${JSON.stringify(id)},"output_index":${index}` };
      this.#calls.set(key, c);
      this.#emit(out, 'response.output_item.added', { output_index: c.index, item: functionCallItem(c.id, c.callId, c.name, '', 'in_progress') });
    } else if (!c.name && typeof fn.name === 'string') {
      c.name = fn.name;
    }
    const args = fn.arguments;
    if (typeof args === 'string' && args.length > 0) {
      c.args += args;
      this.#emitDelta(out, 'response.function_call_arguments.delta', c.at, args);
    }
  }

  #closeCalls(out: string[]): void {
    const calls = [...this.#calls.values()].sort((a, b) => a.index - b.index);
    this.#calls.clear();
    for (const c of calls) {
      this.#emit(out, 'response.function_call_arguments.done', { item_id: c.id, output_index: c.index, arguments: c.args, name: c.name });
      const item = functionCallItem(c.id, c.callId, c.name, c.args, 'completed');
      this.#done[c.index] = item;
      this.#emit(out, 'response.output_item.done', { output_index: c.index, item });
    }
  }
}
