/**
 * `previous_response_id` answered from the sidecar's own store: the request
 * becomes one with the whole conversation as its `input` (the earlier turn's
 * input items, then its output items, then the new input) and no
 * `previous_response_id`, which any target can serve. `instructions` are not
 * carried over, as the API does not carry them ("When using along with
 * `previous_response_id`, the instructions from a previous response will not
 * be carried over to the next response", the SDK's type comment).
 *
 * Output items go in without their ids (the ids are the serving target's;
 * another would look them up and refuse them), and reasoning items without
 * `encrypted_content` are left out: they carry nothing a model can read
 * back, and a target that did not make them refuses their ids.
 */
import { isObject, type Json } from '../../providers/common.ts';
import type { StoredResponse } from './response-store.ts';

export type Expansion = { ok: true; body: Json } | { ok: false; missing: string };

/** A request's `input` as items (a string is one user message). */
export function inputAsItems(input: unknown): Json[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  return Array.isArray(input) ? input.filter(isObject) : [];
}

/** An earlier output item as the next turn's input item. */
export function carriedItem(item: Json): Json | undefined {
  switch (item.type) {
    case 'message':
      return { type: 'message', role: item.role ?? 'assistant', content: item.content };
    case 'function_call':
      return { type: 'function_call', call_id: item.call_id, name: item.name, arguments: item.arguments };
    case 'reasoning':
      return typeof item.encrypted_content === 'string' && item.encrypted_content ? item : undefined;
    default:
      return item;
  }
}

/** The items the next turn starts from: the stored input, then the stored output. */
export function conversationOf(stored: StoredResponse): Json[] {
  const out = stored.items.slice();
  const output = stored.response.output;
  if (Array.isArray(output)) {
    for (const item of output) {
      const carried = isObject(item) ? carriedItem(item) : undefined;
      if (carried) out.push(carried);
    }
  }
  return out;
}

/** The request with its previous response expanded; `missing` names an id the store does not have. */
export function expand(body: Json, store: { get(id: string): StoredResponse | undefined }): Expansion {
  const id = body.previous_response_id;
  if (id === undefined || id === null) return { ok: true, body };
  const stored = typeof id === 'string' ? store.get(id) : undefined;
  if (!stored) return { ok: false, missing: String(id) };
  const out: Json = { ...body, input: [...conversationOf(stored), ...inputAsItems(body.input)] };
  delete out.previous_response_id;
  return { ok: true, body: out };
}

/**
 * The request with its `item_reference` input items (the AI SDK sends earlier
 * answers as `{type: "item_reference", id: "msg_…"}` when the provider stores
 * them) replaced by the items they name, from the store; `missing` names an
 * id the store does not hold. A request without references comes back as it is.
 */
export function resolveItemReferences(body: Json, store: { item(id: string): { item: Json } | undefined } | undefined): Expansion {
  const input = body.input;
  if (!Array.isArray(input) || !input.some(isReference)) return { ok: true, body };
  const out: Json[] = [];
  for (const x of input) {
    if (!isReference(x)) {
      out.push(x as Json);
      continue;
    }
    const id = String((x as Json).id);
    const held = store?.item(id);
    if (!held) return { ok: false, missing: id };
    const carried = carriedItem(held.item);
    if (carried) out.push(carried);
  }
  return { ok: true, body: { ...body, input: out } };
}

function isReference(x: unknown): boolean {
  return isObject(x) && x.type === 'item_reference' && typeof x.id === 'string';
}
