/**
 * A reference point: the classic Node answer, express + http-proxy, in
 * front of the upstream. No routing logic of its own either.
 *
 *   node bench/servers/express-proxy.ts --upstreams '{"default":"http://127.0.0.1:PORT/v1"}' [--port 0]
 *
 * The upstream is the one named by the x-bench-upstream header, as in floor.ts.
 *
 * Prints {"listening": "http://127.0.0.1:PORT"} once ready.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import express from 'express';
import httpProxy from 'http-proxy';

const { values } = parseArgs({ options: { upstreams: { type: 'string' }, port: { type: 'string', default: '0' } } });
const upstreams = new Map<string, { origin: string; base: string }>();
for (const [name, url] of Object.entries(JSON.parse(values.upstreams ?? '{}') as Record<string, string>)) {
  const u = new URL(url);
  upstreams.set(name, { origin: u.origin, base: u.pathname.replace(/\/+$/, '') });
}

const proxy = httpProxy.createProxyServer({
  agent: new http.Agent({ keepAlive: true, maxSockets: 512 }),
  headers: { authorization: 'Bearer sk-bench-express' },
});
proxy.on('error', (_err, _req, res) => {
  const r = res as http.ServerResponse;
  if (!r.headersSent) r.writeHead(502, { 'content-type': 'application/json' });
  r.end('{"error":{"message":"upstream failed","type":"proxy_error"}}');
});

const app = express();
app.disable('x-powered-by');
app.use((req, res) => {
  const up = upstreams.get(String(req.headers['x-bench-upstream'] ?? 'default'));
  if (!up) {
    res.status(404).end();
    return;
  }
  req.url = up.base + req.url.replace(/^\/v1/, '');
  proxy.web(req, res, { target: up.origin });
});
const server = app.listen(Number(values.port), '127.0.0.1', () => {
  const a = server.address();
  const port = a && typeof a === 'object' ? a.port : 0;
  process.stdout.write(JSON.stringify({ listening: `http://127.0.0.1:${port}` }) + '\n');
});
server.keepAliveTimeout = 65_000;
const stop = (): void => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
