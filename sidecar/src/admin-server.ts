/**
 * The admin port: /healthz (alive), /readyz (a config is loaded and we are
 * not draining), /metrics (Prometheus text). Express fits here: it is off
 * the request path and a few routes are all it serves. Nothing secret is
 * reachable from it.
 */
import express from 'express';
import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.ts';

export interface AdminDeps {
  metrics: Metrics;
  isReady: () => boolean;
  isDraining: () => boolean;
}

export function createAdminServer(deps: AdminDeps): Server {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    if (deps.isDraining()) res.status(503).json({ status: 'draining' });
    else if (!deps.isReady()) res.status(503).json({ status: 'no config loaded' });
    else res.json({ status: 'ready' });
  });
  app.get('/metrics', async (_req, res) => {
    try {
      const text = await deps.metrics.registry.metrics();
      res.type(deps.metrics.registry.contentType).send(text);
    } catch {
      res.status(500).type('text/plain').send('metrics unavailable\n');
    }
  });
  app.use((req, res) => {
    res.status(404).json({ error: { message: `no admin endpoint ${req.method} ${req.path}; try /healthz, /readyz or /metrics`, type: 'invalid_request_error', code: 'not_found' } });
  });
  return createServer(app);
}
