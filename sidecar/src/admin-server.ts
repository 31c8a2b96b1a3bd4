/**
 * The admin port: /healthz (alive), /readyz (a config is loaded and we are
 * not draining), /metrics (Prometheus text). GET and HEAD only; a trailing
 * slash and a query string are ignored. Nothing secret is reachable from it.
 *
 * Plain node:http, not express: three fixed paths need no router, and
 * putting the express admin server back raised the compiled sidecar's RSS
 * by 12–13 MB idle and 9–10 MB after its first requests (Node 24;
 * bench/README.md, "Memory").
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Metrics } from './metrics.ts';
import { pathOf, routePath } from './url-path.ts';

export interface AdminDeps {
  metrics: Metrics;
  isReady: () => boolean;
  isDraining: () => boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const PATHS = new Set(['/healthz', '/readyz', '/metrics']);

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string, extra?: Record<string, string>): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, value: unknown, extra?: Record<string, string>): void {
  send(req, res, status, JSON_TYPE, JSON.stringify(value), extra);
}

function notFound(method: string, path: string): unknown {
  // The path is echoed as JSON (escaped), cut short: a probe cannot make the answer large.
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return { error: { message: `no admin endpoint ${method} ${shown}; try GET /healthz, /readyz or /metrics`, type: 'invalid_request_error', code: 'not_found' } };
}

export function createAdminServer(deps: AdminDeps): Server {
  return createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = routePath(pathOf(req.url));
    if (!PATHS.has(path)) {
      sendJson(req, res, 404, notFound(method, path));
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendJson(req, res, 405, { error: { message: `${path} answers GET and HEAD, not ${method}`, type: 'invalid_request_error', code: 'method_not_allowed' } }, { allow: 'GET, HEAD' });
      return;
    }
    if (path === '/healthz') {
      sendJson(req, res, 200, { status: 'ok' });
    } else if (path === '/readyz') {
      if (deps.isDraining()) sendJson(req, res, 503, { status: 'draining' });
      else if (!deps.isReady()) sendJson(req, res, 503, { status: 'no config loaded' });
      else sendJson(req, res, 200, { status: 'ready' });
    } else {
      deps.metrics.registry.metrics().then(
        (text) => send(req, res, 200, deps.metrics.registry.contentType, text),
        () => send(req, res, 500, 'text/plain; charset=utf-8', 'metrics unavailable\n'),
      );
    }
  });
}
