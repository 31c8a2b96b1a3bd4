/**
 * Which of a route's targets can serve an endpoint, and the limits the API
 * edge reads off a config. Legacy completions (POST /v1/completions) exist
 * only in OpenAI's API: a route's anthropic targets are left out of such a
 * request (the rest keep their order and their shared health), and a route
 * with none left refuses it with a 400 that says why. The views and the
 * read cap are made once per route and config, not per request.
 */
import { DEFAULT_MAX_REQUEST_BODY, sizeBytes } from '../../api/v1alpha1/schema.ts';
import type { Route, RuntimeConfig } from './config/runtime-config.ts';
import { BadRequestError } from './errors.ts';
import type { EndpointKind, ProviderName } from './providers/types.ts';

const SERVES_COMPLETIONS: ReadonlySet<ProviderName> = new Set<ProviderName>(['openai', 'azure-openai', 'openai-compatible']);

const completionsViews = new WeakMap<Route, Route | null>();

/** The route as the endpoint sees it: itself, or for completions a view of its OpenAI-shaped targets. Throws BadRequestError when none can serve it. */
export function routeForEndpoint(kind: EndpointKind, route: Route): Route {
  if (kind !== 'completions') return route;
  let view = completionsViews.get(route);
  if (view === undefined) {
    const targets = route.targets.filter((t) => SERVES_COMPLETIONS.has(t.provider));
    view = targets.length === 0 ? null : targets.length === route.targets.length ? route : { ...route, targets };
    completionsViews.set(route, view);
  }
  if (view === null) {
    const providers = [...new Set(route.targets.map((t) => t.provider))].join(', ');
    throw new BadRequestError(
      `route '${route.name}' cannot serve /v1/completions: none of its targets speaks OpenAI's legacy Completions API (its providers: ${providers}); use /v1/chat/completions`,
      'model',
    );
  }
  return view;
}

const readCaps = new WeakMap<RuntimeConfig, number>();

/**
 * The most of a request body read before its model (and so its route) is
 * known: the largest maxRequestBody of any route of the config.
 */
export function bodyReadCap(config: RuntimeConfig): number {
  let cap = readCaps.get(config);
  if (cap === undefined) {
    cap = 0;
    for (const r of config.routes) cap = Math.max(cap, r.maxRequestBytes);
    if (cap === 0) cap = sizeBytes(DEFAULT_MAX_REQUEST_BODY);
    readCaps.set(config, cap);
  }
  return cap;
}
