/**
 * Gemini's `streamGenerateContent?alt=sse` events -> OpenAI chat.completion.chunk
 * objects. Each event is a whole GenerateContentResponse holding the next
 * parts of the (one) candidate; the last carries its finishReason, and
 * usageMetadata is cumulative. A function call arrives whole in one part, so
 * it goes out as one tool_calls delta with its arguments. An `error` object
 * in an event is an error mid-stream.
 */
import { randomUUID } from 'node:crypto';
import { emptyStep, errorStep, invalidStreamEventError, isObject, str, tryParse } from './common.ts';
import { blockedPrompt, callId, failedFinish, finishFor, geminiError, geminiUsage, readParts, refusalFor } from './gemini-response.ts';
import type { SseEvent, StreamDecoder, StreamStep, Usage } from './types.ts';

export class GeminiStreamDecoder implements StreamDecoder {
  readonly #fallbackModel: string;
  readonly #includeUsage: boolean;
  readonly #legacy: boolean;
  #prefix: string | undefined;
  #calls = 0;
  #usage: Usage | undefined;
  #usageJson = '';
  #finished = false;

  constructor(fallbackModel: string, includeUsage: boolean, legacy = false) {
    this.#fallbackModel = fallbackModel;
    this.#includeUsage = includeUsage;
    this.#legacy = legacy;
  }

  push(event: SseEvent): StreamStep {
    if (this.#finished || event.data.trim() === '') return emptyStep();
    const ev = tryParse(event.data);
    if (!isObject(ev)) return errorStep(invalidStreamEventError());
    if (isObject(ev.error)) return errorStep(geminiError(ev.error, undefined));
    const out: string[] = [];
    if (this.#prefix === undefined) {
      this.#start(str(ev.responseId), str(ev.modelVersion));
      const candidates = Array.isArray(ev.candidates) ? ev.candidates : [];
      if (candidates.length === 0) {
        const blocked = blockedPrompt(ev.promptFeedback);
        if (blocked) return errorStep(blocked);
      }
      out.push(this.#chunk('{"role":"assistant","content":""}', null));
    }
    if (ev.usageMetadata !== undefined) {
      const u = geminiUsage(ev.usageMetadata);
      this.#usage = u.usage;
      this.#usageJson = JSON.stringify(u.openai);
    }
    const candidate = Array.isArray(ev.candidates) && isObject(ev.candidates[0]) ? ev.candidates[0] : undefined;
    if (!candidate) return { out, content: false, finished: false };
    const failed = failedFinish(candidate.finishReason);
    if (failed) return errorStep(failed);

    const parts = readParts(candidate.content);
    let content = false;
    if (parts.reasoning) out.push(this.#chunk(JSON.stringify({ reasoning_content: parts.reasoning }), null));
    if (parts.text) {
      out.push(this.#chunk(JSON.stringify({ content: parts.text }), null));
      content = true;
    }
    for (const call of parts.calls) {
      const ordinal = this.#calls++;
      if (this.#legacy && ordinal > 0) continue;
      const id = callId(call.id, `call_${randomUUID().replaceAll('-', '')}`);
      const delta = this.#legacy
        ? { function_call: { name: call.name, arguments: call.arguments } }
        : { tool_calls: [{ index: ordinal, id, type: 'function', function: { name: call.name, arguments: call.arguments } }] };
      out.push(this.#chunk(JSON.stringify(delta), null));
      content = true;
    }
    const reason = candidate.finishReason;
    if (typeof reason !== 'string' || reason === '' || reason === 'FINISH_REASON_UNSPECIFIED') return { out, content, finished: false };

    let finish = finishFor(reason, this.#calls > 0);
    if (finish === 'content_filter') {
      out.push(this.#chunk(JSON.stringify({ refusal: refusalFor(reason) }), null));
      content = true;
    }
    if (this.#legacy && finish === 'tool_calls') finish = 'function_call';
    out.push(this.#chunk('{}', finish));
    if (this.#includeUsage) out.push(this.#usageChunk());
    this.#finished = true;
    const usage = this.#usage ?? { prompt: 0, completion: 0 };
    return { out, content, finished: true, usage };
  }

  #start(id: string | undefined, model: string | undefined): void {
    const created = Math.floor(Date.now() / 1000);
    this.#prefix =
      `{"id":${JSON.stringify(id ? `chatcmpl-${id}` : `chatcmpl-${randomUUID()}`)},"object":"chat.completion.chunk",` +
      `"created":${created},"model":${JSON.stringify(model || this.#fallbackModel)}`;
  }

  #chunk(delta: string, finish: string | null): string {
    const fr = finish === null ? 'null' : JSON.stringify(finish);
    const usage = this.#includeUsage ? ',"usage":null' : '';
    return `${this.#prefix},"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${fr}}]${usage}}`;
  }

  #usageChunk(): string {
    const usage = this.#usageJson || '{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}';
    return `${this.#prefix},"choices":[],"usage":${usage}}`;
  }
}
