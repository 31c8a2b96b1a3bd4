/**
 * OpenAI's Responses API on the sidecar (POST /v1/responses): how a request
 * reaches each target, and what the sidecar keeps of the answers it serves.
 *
 * Targets that serve the Responses API themselves (openai, azure-openai, and
 * openai-compatible ones that say so) get it natively; the others get it
 * through Chat Completions, unless it uses what Chat lacks.
 *
 * previous_response_id across a failover: every answer the sidecar serves is
 * kept with the whole conversation behind it in the route's bounded store
 * (responses/response-store.ts). A target that cannot resolve the id itself
 * (a translated one, or a native one that did not serve it) gets the
 * conversation expanded into `input` (responses/previous-response.ts); a
 * translated target is skipped (`unsupported`) when the store does not hold
 * the id, so only when no target can serve it does the client get a 400.
 */
import type { Route, Target } from '../config/runtime-config.ts';
import { isObject, tryParse, type Json } from '../providers/common.ts';
import type { ProviderAdapter, ProviderName } from '../providers/types.ts';
import { responsesNative, type ResponsesFamily } from './responses/native.ts';
import { conversationOf, expand, inputAsItems, resolveItemReferences, type Expansion } from './responses/previous-response.ts';
import type { ResponseStore } from './responses/response-store.ts';
import { responsesTranslation } from './responses/translation.ts';
import { reachFor, type PrepareBody, type SurfaceCodecs, type TargetReach } from './target-reach.ts';
import type { FramedStream } from './types.ts';

const NATIVE: Partial<Record<ProviderName, ProviderAdapter>> = {
  openai: responsesNative('openai'),
  'azure-openai': responsesNative('azure-openai'),
  'openai-compatible': responsesNative('openai-compatible'),
};

export const RESPONSES_CODECS: SurfaceCodecs = {
  translation: responsesTranslation,
  native: (target) => (target.servesResponses ? NATIVE[target.provider as ResponsesFamily] : undefined),
};

/** One Responses API request: its reach, and what to keep once a target served it. */
export interface ResponsesRequest {
  reach(adapterFor: (p: ProviderName) => ProviderAdapter): TargetReach;
  /** A whole answer went out: keep it. */
  served(target: Target, responseText: string): void;
  /** A stream ended cleanly: keep the final response the decoder kept. */
  streamed(target: Target, framed: FramedStream | undefined): void;
}

/**
 * Whether every item_reference of the body names an item the store holds from a response this
 * target served, or one the store does not hold at all (then only the provider can know it).
 */
function referencesServedBy(body: Json, store: ResponseStore | undefined, target: string): boolean {
  const input = body.input;
  if (!Array.isArray(input)) return true;
  for (const x of input as Json[]) {
    if (!x || x.type !== 'item_reference' || typeof x.id !== 'string') continue;
    const held = store?.item(x.id);
    if (held && held.stored.servedBy.target !== target) return false;
  }
  return true;
}

export function responsesRequest(body: Json, route: Route, store: ResponseStore | undefined): ResponsesRequest {
  const previous = typeof body.previous_response_id === 'string' ? body.previous_response_id : undefined;
  const held = previous !== undefined ? store?.get(previous) : undefined;
  let expanded: Json | undefined;
  const storeNote = `route '${route.name}' keeps at most ${route.responseStore.maxEntries} responses for ${Math.round(route.responseStore.ttlMs / 1000)} s`;
  let resolved: Expansion | undefined;
  const prepare: PrepareBody = (target, native) => {
    let b = body;
    if (previous !== undefined) {
      // The target that served the id resolves it itself; so may a native one when the store never saw it.
      if (!(native && (held === undefined || held.servedBy.target === target.name))) {
        if (held && store && !expanded) {
          const e = expand(body, store);
          expanded = e.ok ? e.body : undefined;
        }
        if (!expanded) {
          return { unsupported: `previous_response_id '${previous}' is not in this sidecar's response store (served elsewhere, evicted or expired; ${storeNote}), and this target cannot resolve it` };
        }
        b = expanded;
      }
    }
    // item_reference items: left for a native target that holds them (or that may: the store does not know them), else resolved from the store.
    if (native && referencesServedBy(b, store, target.name)) return { body: b };
    const r = b === body ? (resolved ??= resolveItemReferences(body, store)) : resolveItemReferences(b, store);
    if (r.ok) return { body: r.body };
    if (native) return { body: b };
    return { unsupported: `item_reference '${r.missing}' is not in this sidecar's response store (served elsewhere, evicted or expired; ${storeNote}), and this target cannot resolve it` };
  };
  const keep = (target: Target, response: Json | undefined): void => {
    if (!store || body.store === false || !response || typeof response.id !== 'string') return;
    // Continuing a response the store does not hold (the provider resolved it): the conversation is not known whole, so it is not kept.
    if (previous !== undefined && !held) return;
    // The input as the store can replay it: item_reference items resolved where the store held them.
    const input = resolved?.ok ? resolved.body.input : body.input;
    const items = held ? [...conversationOf(held), ...inputAsItems(input)] : inputAsItems(input);
    store.put(response.id, { items, servedBy: { target: target.name, provider: target.provider, baseURL: target.baseURL }, response });
  };
  return {
    reach: (adapterFor) => reachFor(RESPONSES_CODECS, body, adapterFor, prepare),
    served: (target, text) => {
      const r = tryParse(text);
      keep(target, isObject(r) ? r : undefined);
    },
    streamed: (target, framed) => keep(target, framed?.result?.()),
  };
}
