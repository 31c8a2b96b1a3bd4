/**
 * Where a request about a stored response goes (GET, DELETE, GET …/input_items,
 * POST …/cancel of /v1/responses/{id}): answered from the sidecar's response
 * store, passed to the native target that served the id, or, when the store
 * does not hold it, tried at each native-Responses target of the config in
 * turn. Pure: the edge (api-server.ts, stored-relay.ts) does the I/O.
 *
 * - Held, served by a native target still in the config: a terminal response
 *   (completed, incomplete, failed, cancelled) is answered from the store (fast,
 *   and it survives the provider's outage); a background one (queued,
 *   in_progress) is asked of the target, whose answer is the current one.
 *   cancel and delete go to the target too; input_items is the store's.
 * - Held, served through Chat Completions (or by a target no longer in the
 *   config): the store answers everything, as the provider never had the id.
 * - Not held: every native target of the config may have it (another
 *   replica served it, or this one before a restart or an eviction).
 */
import type { Route, Target } from '../config/runtime-config.ts';
import type { Json } from '../providers/common.ts';
import type { ServedBy } from './responses/response-store.ts';
import { RESPONSES_CODECS } from './responses-surface.ts';
import type { StoredAction } from './stored-responses.ts';

/** What the store holds of the id: the route whose store holds it, who served it, and the response as stored. */
export interface HeldResponse {
  route: string;
  servedBy: ServedBy;
  response: Json;
}

export type StoredRouting =
  /** The store answers (answerStoredResponse). */
  | { to: 'store' }
  /** Passed to the target that served it. */
  | { to: 'native'; target: Target }
  /** Not held: tried at each of these in order; none: the store's 404. */
  | { to: 'candidates'; targets: Target[] };

/** Whether a target serves the Responses API itself (the rule POST /v1/responses follows). */
export const servesResponsesNatively = (t: Target): boolean => RESPONSES_CODECS.native(t) !== undefined;

/** The config's target that served a held response: by name in the route whose store holds it, else by name and base URL in any route. */
export function servingTarget(servedBy: ServedBy, route: string, routes: readonly Route[]): Target | undefined {
  const inRoute = routes.find((r) => r.name === route)?.targets.find((t) => t.name === servedBy.target);
  if (inRoute) return inRoute;
  for (const r of routes) for (const t of r.targets) if (t.name === servedBy.target && t.baseURL === servedBy.baseURL) return t;
  return undefined;
}

/** The config's native-Responses targets, one per provider account (base URL and key), in the order of routes then targets. */
export function nativeCandidates(routes: readonly Route[], isNative: (t: Target) => boolean = servesResponsesNatively): Target[] {
  const seen = new Set<string>();
  const out: Target[] = [];
  for (const r of routes) {
    for (const t of r.targets) {
      if (!isNative(t)) continue;
      // The identity is compared here only; the key goes nowhere else.
      const identity = `${t.baseURL}\u0000${t.apiKey?.reveal() ?? ''}`;
      if (seen.has(identity)) continue;
      seen.add(identity);
      out.push(t);
    }
  }
  return out;
}

export function routeStoredRequest(action: StoredAction, held: HeldResponse | undefined, routes: readonly Route[], isNative: (t: Target) => boolean = servesResponsesNatively): StoredRouting {
  if (!held) return { to: 'candidates', targets: nativeCandidates(routes, isNative) };
  if (action === 'input_items') return { to: 'store' };
  const target = servingTarget(held.servedBy, held.route, routes);
  if (!target || !isNative(target)) return { to: 'store' };
  if (action === 'get') {
    const status = held.response.status;
    return status === 'queued' || status === 'in_progress' ? { to: 'native', target } : { to: 'store' };
  }
  return { to: 'native', target };
}
