/**
 * Gemini's `streamGenerateContent?alt=sse` events -> OpenAI chat.completion.chunk
 * objects. Each event is a whole GenerateContentResponse holding the next
 * parts of the (one) candidate; the last carries its finishReason, and
 * usageMetadata is cumulative. A function call arrives whole in one part, so
 * it goes out as one tool_calls delta with its arguments. An `error` object
 * in an event is an error mid-stream.
 */
import { randomUUID } from 'node:crypto';
import { emptyStep, errorStep, invalidStreamEventError, isObject, str, tryParse, type Json } from './common.ts';
import { blockedPrompt, callId, failedFinish, finishFor, geminiError, geminiUsage, readParts, refusalFor } from './gemini-response.ts';
import type { ChunkWriter } from './chat-chunks.ts';
import type { SseEvent, StreamDecoder, StreamStep, Usage } from './types.ts';

/** `C`: chunks as JSON text (the Chat API) or objects (a bridge), as the writer makes them. */
export class GeminiStreamDecoder<C = string> implements StreamDecoder<C> {
  /** Started at the first event, with its responseId and modelVersion. */
  readonly #chunks: ChunkWriter<C>;
  readonly #legacy: boolean;
  #calls = 0;
  #usage: Usage | undefined;
  /** The usage chunk's OpenAI usage, from the last usageMetadata. */
  #usageOpenAI: Json | undefined;
  #finished = false;

  constructor(chunks: ChunkWriter<C>, legacy = false) {
    this.#chunks = chunks;
    this.#legacy = legacy;
  }

  push(event: SseEvent): StreamStep<C> {
    if (this.#finished || event.data.trim() === '') return emptyStep();
    const ev = tryParse(event.data);
    if (!isObject(ev)) return errorStep(invalidStreamEventError());
    if (isObject(ev.error)) return errorStep(geminiError(ev.error, undefined));
    const out: C[] = [];
    if (!this.#chunks.started) {
      const id = str(ev.responseId);
      this.#chunks.start(id ? `chatcmpl-${id}` : undefined, str(ev.modelVersion));
      const candidates = Array.isArray(ev.candidates) ? ev.candidates : [];
      if (candidates.length === 0) {
        const blocked = blockedPrompt(ev.promptFeedback);
        if (blocked) return errorStep(blocked);
      }
      out.push(this.#chunks.chunk({ role: 'assistant', content: '' }, null));
    }
    if (ev.usageMetadata !== undefined) {
      const u = geminiUsage(ev.usageMetadata);
      this.#usage = u.usage;
      this.#usageOpenAI = u.openai;
    }
    const candidate = Array.isArray(ev.candidates) && isObject(ev.candidates[0]) ? ev.candidates[0] : undefined;
    if (!candidate) return { out, content: false, finished: false };
    const failed = failedFinish(candidate.finishReason);
    if (failed) return errorStep(failed);

    const parts = readParts(candidate.content);
    let content = false;
    if (parts.reasoning) out.push(this.#chunks.chunk({ reasoning_content: parts.reasoning }, null));
    if (parts.text) {
      out.push(this.#chunks.chunk({ content: parts.text }, null));
      content = true;
    }
    for (const call of parts.calls) {
      const ordinal = this.#calls++;
      if (this.#legacy && ordinal > 0) continue;
      const id = callId(call.id, `call_${randomUUID().replaceAll('-', '')}`);
      const delta = this.#legacy
        ? { function_call: { name: call.name, arguments: call.arguments } }
        : { tool_calls: [{ index: ordinal, id, type: 'function', function: { name: call.name, arguments: call.arguments } }] };
      out.push(this.#chunks.chunk(delta, null));
      content = true;
    }
    const reason = candidate.finishReason;
    if (typeof reason !== 'string' || reason === '' || reason === 'FINISH_REASON_UNSPECIFIED') return { out, content, finished: false };

    let finish = finishFor(reason, this.#calls > 0);
    if (finish === 'content_filter') {
      out.push(this.#chunks.chunk({ refusal: refusalFor(reason) }, null));
      content = true;
    }
    if (this.#legacy && finish === 'tool_calls') finish = 'function_call';
    out.push(this.#chunks.chunk({}, finish));
    if (this.#chunks.includeUsage) out.push(this.#chunks.usage(this.#usageOpenAI ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }));
    this.#finished = true;
    const usage = this.#usage ?? { prompt: 0, completion: 0 };
    return { out, content, finished: true, usage };
  }
}
