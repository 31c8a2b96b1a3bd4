import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { closeUpstreams, readText, sendUpstream, sendUpstreamBuffered } from './upstream.ts';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/hang') return; // never answers
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"partial":');
        return; // and never finishes
      }
      if (req.url === '/error') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
        res.end(JSON.stringify({ error: { message: 'slow down '.repeat(1000) } }));
        return;
      }
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 64; i++) res.write('x'.repeat(1024));
        res.end();
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json', 'x-echo-auth': String(req.headers.authorization) });
      res.end(JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString('utf8') }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await closeUpstreams();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const opts = () => ({ connectMs: 1000, headersTimeoutMs: 2000, bodyTimeoutMs: 2000, signal: new AbortController().signal });

describe('sendUpstreamBuffered', () => {
  const buffered = (path: string, limit = 1 << 20, signal = new AbortController().signal) =>
    sendUpstreamBuffered({ url: `${base}${path}`, headers: { authorization: 'Bearer k' }, body: '{"a":1}' }, { ...opts(), signal, limitFor: () => limit });

  it('collects the whole answer: status, headers, text', async () => {
    const res = await buffered('/v1/chat/completions');
    expect(res).toMatchObject({ statusCode: 201, truncated: false });
    expect(res.headers['x-echo-auth']).toBe('Bearer k');
    expect(JSON.parse(res.text)).toEqual({ method: 'POST', url: '/v1/chat/completions', body: '{"a":1}' });
  });

  it('passes the status to limitFor: an error body is cut at its own limit, headers kept', async () => {
    const seen: number[] = [];
    const res = await sendUpstreamBuffered({ url: `${base}/error`, headers: {}, body: '' }, { ...opts(), limitFor: (s) => (seen.push(s), s >= 400 ? 100 : 1 << 20) });
    expect(seen).toEqual([429]);
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.truncated).toBe(true);
    expect(res.text.length).toBeLessThanOrEqual(100);
  });

  it('cuts a long body at the limit and still serves the next call', async () => {
    const res = await buffered('/big', 10_000);
    expect(res.truncated).toBe(true);
    expect(res.text.length).toBeLessThanOrEqual(10_000);
    expect((await buffered('/v1/ok')).statusCode).toBe(201);
  });

  it('an aborted signal ends the call, before the headers and during the body', async () => {
    const early = new AbortController();
    const p1 = buffered('/hang', 1 << 20, early.signal);
    setTimeout(() => early.abort('deadline'), 20);
    await expect(p1).rejects.toMatchObject({ code: 'UND_ERR_ABORTED', cause: 'deadline' });
    const late = new AbortController();
    const p2 = buffered('/stall', 1 << 20, late.signal);
    setTimeout(() => late.abort('client-closed'), 50);
    await expect(p2).rejects.toMatchObject({ cause: 'client-closed' });
    const before = new AbortController();
    before.abort('deadline');
    await expect(buffered('/v1/ok', 1 << 20, before.signal)).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
  });

  it("undici's timeouts: no headers, then a stalled body", async () => {
    const o = { connectMs: 1000, headersTimeoutMs: 100, bodyTimeoutMs: 100, signal: new AbortController().signal, limitFor: () => 1 << 20 };
    await expect(sendUpstreamBuffered({ url: `${base}/hang`, headers: {}, body: '' }, o)).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    await expect(sendUpstreamBuffered({ url: `${base}/stall`, headers: {}, body: '' }, o)).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });
});

describe('sendUpstream', () => {
  it('POSTs the body and headers to the URL, query kept, and hands back status, headers and body', async () => {
    const res = await sendUpstream({ url: `${base}/v1/chat/completions?api-version=1`, headers: { authorization: 'Bearer k', 'content-type': 'application/json' }, body: '{"a":1}' }, opts());
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-echo-auth']).toBe('Bearer k');
    expect(JSON.parse(await readText(res.body, 1 << 20))).toEqual({ method: 'POST', url: '/v1/chat/completions?api-version=1', body: '{"a":1}' });
  });

  it('readText stops at its limit and releases the body', async () => {
    const res = await sendUpstream({ url: `${base}/big`, headers: {}, body: '' }, opts());
    const text = await readText(res.body, 4096);
    expect(text.length).toBeLessThanOrEqual(4096 + 1024);
    expect(text.length).toBeGreaterThan(0);
  });

  it('rejects on a refused connection with the socket error code', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(sendUpstream({ url: `http://127.0.0.1:${port}/v1`, headers: {}, body: '' }, opts())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it("loads undici's Agent and request modules, not its index (fetch, WebSocket, cache: 8 MB per pod)", () => {
    const file = fileURLToPath(new URL('./upstream.ts', import.meta.url));
    const script = `await import(${JSON.stringify(file)}); const { createRequire } = await import('node:module'); const r = createRequire(import.meta.url); process.stdout.write(JSON.stringify(Object.keys(r.cache).filter((k) => k.includes('undici')).map((k) => k.slice(k.lastIndexOf('undici')))));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    expect(loaded).toContain('undici/lib/dispatcher/agent.js');
    expect(loaded).not.toContain('undici/index.js');
    expect(loaded.filter((m) => m.includes('/fetch/') || m.includes('/websocket/') || m.includes('/cache/'))).toEqual([]);
  });
});
