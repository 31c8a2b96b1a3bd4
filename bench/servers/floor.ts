/**
 * The floor: the least any Node proxy in front of an LLM API pays. node:http
 * in, undici out over keep-alive, a fixed upstream, no parsing, no
 * routing, no metrics. The body is read whole (a proxy must, to send it
 * with a length), the response is piped back as it comes (streams too).
 *
 *   node bench/servers/floor.ts --upstreams '{"default":"http://127.0.0.1:PORT/v1","slow":"..."}' [--port 0]
 *
 * The upstream is the one named by the request's x-bench-upstream header
 * (default: "default"): one header lookup, the price of serving several.
 *
 * Prints {"listening": "http://127.0.0.1:PORT"} once ready.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';

const { values } = parseArgs({ options: { upstreams: { type: 'string' }, port: { type: 'string', default: '0' } } });
const upstreams = new Map<string, { origin: string; base: string }>();
for (const [name, url] of Object.entries(JSON.parse(values.upstreams ?? '{}') as Record<string, string>)) {
  const u = new URL(url);
  upstreams.set(name, { origin: u.origin, base: u.pathname.replace(/\/+$/, '') });
}
const agent = new Agent({ keepAliveTimeout: 30_000, pipelining: 1 });
const upstreamHeaders = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-floor' };

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const up = upstreams.get(String(req.headers['x-bench-upstream'] ?? 'default'));
    if (!up) {
      res.writeHead(404).end();
      return;
    }
    const path = up.base + (req.url ?? '/').replace(/^\/v1/, '');
    // stream(): undici's proxy fast path, the response body is written straight into `res`.
    agent
      .stream({ origin: up.origin, path, method: 'POST', headers: upstreamHeaders, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }, (r) => {
        const h: Record<string, string> = { 'content-type': String(r.headers['content-type'] ?? 'application/json') };
        const len = r.headers['content-length'];
        if (typeof len === 'string') h['content-length'] = len;
        res.writeHead(r.statusCode, h);
        return res;
      })
      .catch(() => {
        if (res.headersSent) return void res.destroy();
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"upstream failed","type":"floor_error"}}');
      });
  });
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const a = server.address();
  const port = a && typeof a === 'object' ? a.port : 0;
  process.stdout.write(JSON.stringify({ listening: `http://127.0.0.1:${port}` }) + '\n');
});
const stop = (): void => {
  server.close();
  server.closeAllConnections();
  void agent.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
