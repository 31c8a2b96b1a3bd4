/**
 * The conversation behind each response id the sidecar answered, so that a
 * request with `previous_response_id` can go to another target than the one
 * that served the earlier turn (previous-response.ts expands it). Bounded by
 * entry count and by bytes (estimated from the serialised size), least
 * recently used first out, and by a TTL counted from the put. The clock is
 * injected; nothing here sets a timer: expired entries go when they are read
 * and, a few at a time from the oldest end, on each put.
 */
import type { Json } from '../../providers/common.ts';
import { inputItemsPage, type InputItemsQuery } from './input-items.ts';

/** The target that served a response (its name in the route, provider and base URL). */
export interface ServedBy {
  target: string;
  provider: string;
  baseURL: string;
}

export interface StoredResponse {
  /** The whole input of that turn (earlier turns included), as items. */
  items: Json[];
  servedBy: ServedBy;
  /** The Response object as the client got it (its `output` continues the conversation). */
  response: Json;
}

export interface ResponseStoreOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  /** Milliseconds; default Date.now. */
  now?: () => number;
}

interface Slot {
  value: StoredResponse;
  bytes: number;
  expiresAt: number;
}

/** Expired entries looked for at the oldest end on each put. */
const SWEEP_PER_PUT = 8;

/** The bytes an entry is counted as: its serialised size (UTF-16 code units, near enough to UTF-8 bytes for JSON). */
export function entryBytes(id: string, value: StoredResponse): number {
  return id.length + JSON.stringify(value.items).length + JSON.stringify(value.response).length + value.servedBy.target.length + value.servedBy.baseURL.length + 64;
}

function* outputItemIds(value: StoredResponse): Iterable<string> {
  const output = value.response.output;
  if (!Array.isArray(output)) return;
  for (const x of output as Json[]) if (x && typeof x.id === 'string') yield x.id;
}

export class ResponseStore {
  readonly #slots = new Map<string, Slot>();
  /** The id of every output item a stored response holds → that response's id (for item_reference). */
  readonly #items = new Map<string, string>();
  readonly #opts: Required<ResponseStoreOptions>;
  #bytes = 0;

  constructor(opts: ResponseStoreOptions) {
    this.#opts = { now: Date.now, ...opts };
  }

  get size(): number {
    return this.#slots.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Stores (or replaces) an entry; false when it alone is larger than maxBytes (then it is not kept). */
  put(id: string, value: StoredResponse): boolean {
    this.delete(id);
    const bytes = entryBytes(id, value);
    if (bytes > this.#opts.maxBytes || this.#opts.maxEntries <= 0) return false;
    const now = this.#opts.now();
    this.#sweep(now);
    this.#slots.set(id, { value, bytes, expiresAt: now + this.#opts.ttlMs });
    this.#bytes += bytes;
    for (const itemId of outputItemIds(value)) this.#items.set(itemId, id);
    for (const oldest of this.#slots.keys()) {
      if (this.#slots.size <= this.#opts.maxEntries && this.#bytes <= this.#opts.maxBytes) break;
      this.delete(oldest);
    }
    return true;
  }

  /** The entry, made the most recently used; undefined when absent or expired. */
  get(id: string): StoredResponse | undefined {
    const slot = this.#slots.get(id);
    if (!slot) return undefined;
    if (slot.expiresAt <= this.#opts.now()) {
      this.delete(id);
      return undefined;
    }
    this.#slots.delete(id);
    this.#slots.set(id, slot);
    return slot.value;
  }

  /** The input_items list of a stored response; undefined when absent or expired. */
  inputItems(id: string, query: InputItemsQuery = {}): Json | undefined {
    const stored = this.get(id);
    return stored ? inputItemsPage(id, stored.items, query) : undefined;
  }

  delete(id: string): boolean {
    const slot = this.#slots.get(id);
    if (!slot) return false;
    this.#slots.delete(id);
    this.#bytes -= slot.bytes;
    for (const itemId of outputItemIds(slot.value)) if (this.#items.get(itemId) === id) this.#items.delete(itemId);
    return true;
  }

  /** An output item of a stored response by its id, with the response that holds it; undefined when not held. */
  item(itemId: string): { item: Json; stored: StoredResponse } | undefined {
    const id = this.#items.get(itemId);
    const stored = id === undefined ? undefined : this.get(id);
    if (!stored) return undefined;
    const output = stored.response.output;
    const item = Array.isArray(output) ? (output as Json[]).find((x) => x?.id === itemId) : undefined;
    return item ? { item, stored } : undefined;
  }

  #sweep(now: number): void {
    let looked = 0;
    for (const [id, slot] of this.#slots) {
      if (looked++ >= SWEEP_PER_PUT) break;
      if (slot.expiresAt <= now) this.delete(id);
    }
  }
}
