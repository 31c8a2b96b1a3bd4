/**
 * The path part of a request URL, as both of the sidecar's servers route
 * on it: the query string dropped, then one trailing slash (but not the
 * root's), so that `/metrics/` and `/v1/models?x=1` find their routes.
 */

/** The path without its query string. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

/** The path a route is looked up by: one trailing slash dropped, except from `/`. */
export function routePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
