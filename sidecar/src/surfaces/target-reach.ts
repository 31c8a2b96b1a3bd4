/**
 * How one request reaches each target of its route, for an API beyond Chat:
 * natively when the target speaks the client's API, else through Chat
 * Completions (chat-bridge.ts) unless the request uses something Chat
 * cannot express; then the target is skipped (the failover loop records the
 * attempt as `unsupported`). Decided once per target per request.
 */
import { randomBytes } from 'node:crypto';
import type { Target } from '../config/runtime-config.ts';
import type { Json } from '../providers/common.ts';
import type { ProviderAdapter, ProviderName } from '../providers/types.ts';
import { bridgedAdapter } from './chat-bridge.ts';
import type { SurfaceTranslation, TranslationContext } from './types.ts';

export type Reach = { adapter: ProviderAdapter; body: Json } | { unsupported: string };
export type TargetReach = (target: Target) => Reach;

/** What a surface offers its targets. */
export interface SurfaceCodecs {
  translation: SurfaceTranslation;
  /** The codec of a target that speaks the surface's API itself; undefined: through Chat. */
  native(target: Target): ProviderAdapter | undefined;
}

/**
 * A request's body as one target gets it (the Responses API's
 * previous_response_id expanded from the local store for a target that
 * cannot resolve it), or why that target cannot serve it.
 */
export type PrepareBody = (target: Target, native: boolean) => { body: Json } | { unsupported: string };

/**
 * Ids of translated answers (resp_…, msg_…, fc_…): a random part drawn once per process and a
 * counter. Unique within the process and across restarts; drawing 16 random bytes for each of
 * the several ids a stream makes cost 4–5 % of a translated stream's CPU.
 */
const ID_PREFIX = randomBytes(12).toString('hex');
let idCount = 0;

export const TRANSLATION_CONTEXT: TranslationContext = {
  newId: (prefix) => `${prefix}_${ID_PREFIX}${(++idCount).toString(16).padStart(8, '0')}`,
  nowSeconds: () => Math.floor(Date.now() / 1000),
};

const bridges = new WeakMap<SurfaceTranslation, Map<ProviderName, ProviderAdapter>>();

function bridgeFor(translation: SurfaceTranslation, chat: ProviderAdapter): ProviderAdapter {
  let byProvider = bridges.get(translation);
  if (!byProvider) bridges.set(translation, (byProvider = new Map()));
  let b = byProvider.get(chat.name);
  if (!b) byProvider.set(chat.name, (b = bridgedAdapter(translation, chat, TRANSLATION_CONTEXT)));
  return b;
}

export function reachFor(codecs: SurfaceCodecs, body: Json, adapterFor: (p: ProviderName) => ProviderAdapter, prepare?: PrepareBody): TargetReach {
  // What the translation lacks depends on the body only: asked once per body a target gets.
  const lacking = new Map<Json, string | undefined>();
  const lacks = (b: Json): string | undefined => {
    if (!lacking.has(b)) lacking.set(b, codecs.translation.unsupported(b));
    return lacking.get(b);
  };
  const cache = new Map<Target, Reach>();
  return (target) => {
    let r = cache.get(target);
    if (r) return r;
    const native = codecs.native(target);
    const prepared = prepare ? prepare(target, native !== undefined) : { body };
    if ('unsupported' in prepared) r = prepared;
    else if (native) r = { adapter: native, body: prepared.body };
    else {
      const why = lacks(prepared.body);
      r = why !== undefined ? { unsupported: why } : { adapter: bridgeFor(codecs.translation, adapterFor(target.provider)), body: prepared.body };
    }
    cache.set(target, r);
    return r;
  };
}
