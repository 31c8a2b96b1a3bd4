/**
 * How a translating stream decoder (anthropic, gemini, bedrock) writes the
 * chat.completion.chunk objects it makes. On the Chat API they go out as
 * JSON text (ChunkText: built around a prefix kept for the stream, no object
 * per chunk). When a bridge turns them into another API's events
 * (surfaces/chat-bridge.ts: Responses, Messages), text would only be parsed
 * again there, so the bridge asks for the objects themselves (ChunkObjects).
 * Both write the same chunk: id, object, created, model, one choice with
 * `delta`, `logprobs: null` and `finish_reason`, and `"usage": null` on every
 * chunk but the usage one when the client asked for usage.
 */
import { randomUUID } from 'node:crypto';
import type { Json } from './common.ts';

export interface ChunkWriter<C> {
  /** The client asked for usage (stream_options.include_usage): a usage chunk ends the stream. */
  readonly includeUsage: boolean;
  /** Whether start() ran (a decoder that learns its id and model from the first event starts there). */
  readonly started: boolean;
  /** The stream's chunk id (`chatcmpl-…`; a fresh one when undefined) and model (the fallback when empty). */
  start(id: string | undefined, model: string | undefined): void;
  /** A chunk with one choice; starts the stream with a fresh id first if nothing did. */
  chunk(delta: Json, finish: string | null): C;
  /** The usage chunk (no choices) that ends a stream whose client asked for usage. */
  usage(usage: Json): C;
}

/** The chunk id of a provider's message id (or a fresh one). */
function chunkId(id: string | undefined): string {
  return id ?? `chatcmpl-${randomUUID()}`;
}

/** Chunks as JSON text, for the Chat API. */
export class ChunkText implements ChunkWriter<string> {
  readonly includeUsage: boolean;
  readonly #fallbackModel: string;
  readonly #usageNull: string;
  /** `{"id":…,"object":"chat.completion.chunk","created":…,"model":…` */
  #prefix: string | undefined;

  constructor(fallbackModel: string, includeUsage: boolean) {
    this.#fallbackModel = fallbackModel;
    this.includeUsage = includeUsage;
    // With include_usage, OpenAI puts `"usage": null` on every chunk but the last.
    this.#usageNull = includeUsage ? ',"usage":null' : '';
  }

  get started(): boolean {
    return this.#prefix !== undefined;
  }

  start(id: string | undefined, model: string | undefined): void {
    const created = Math.floor(Date.now() / 1000);
    this.#prefix =
      `{"id":${JSON.stringify(chunkId(id))},"object":"chat.completion.chunk",` + `"created":${created},"model":${JSON.stringify(model || this.#fallbackModel)}`;
  }

  chunk(delta: Json, finish: string | null): string {
    if (this.#prefix === undefined) this.start(undefined, undefined);
    const fr = finish === null ? 'null' : JSON.stringify(finish);
    return `${this.#prefix},"choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${fr}}]${this.#usageNull}}`;
  }

  usage(usage: Json): string {
    if (this.#prefix === undefined) this.start(undefined, undefined);
    return `${this.#prefix},"choices":[],"usage":${JSON.stringify(usage)}}`;
  }
}

/** Chunks as objects, for a bridge that reads them (surfaces/chat-bridge.ts). */
export class ChunkObjects implements ChunkWriter<Json> {
  readonly includeUsage: boolean;
  readonly #fallbackModel: string;
  #head: { id: string; created: number; model: string } | undefined;

  constructor(fallbackModel: string, includeUsage: boolean) {
    this.#fallbackModel = fallbackModel;
    this.includeUsage = includeUsage;
  }

  get started(): boolean {
    return this.#head !== undefined;
  }

  start(id: string | undefined, model: string | undefined): void {
    this.#head = { id: chunkId(id), created: Math.floor(Date.now() / 1000), model: model || this.#fallbackModel };
  }

  chunk(delta: Json, finish: string | null): Json {
    if (this.#head === undefined) this.start(undefined, undefined);
    const h = this.#head!;
    const c: Json = { id: h.id, object: 'chat.completion.chunk', created: h.created, model: h.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
    if (this.includeUsage) c.usage = null;
    return c;
  }

  usage(usage: Json): Json {
    if (this.#head === undefined) this.start(undefined, undefined);
    const h = this.#head!;
    return { id: h.id, object: 'chat.completion.chunk', created: h.created, model: h.model, choices: [], usage };
  }
}

/** A writer of either kind, for an adapter's createStreamDecoder and createChunkDecoder. */
export type ChunkWriterFor<C> = (fallbackModel: string, includeUsage: boolean) => ChunkWriter<C>;
export const chunkText: ChunkWriterFor<string> = (model, usage) => new ChunkText(model, usage);
export const chunkObjects: ChunkWriterFor<Json> = (model, usage) => new ChunkObjects(model, usage);
