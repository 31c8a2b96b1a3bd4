import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Dispatcher } from 'undici';
import type { StreamSink } from './stream-session.ts';
import { closeUpstreams, sendUpstream, type SendOptions } from './upstream.ts';

let server: Server;
let base: string;
/** Responses of /sse-hold, for the test to write to. */
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      switch (req.url) {
        case '/hang':
          return; // never answers
        case '/stall':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"partial":');
          return; // and never finishes
        case '/error':
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
          res.end(JSON.stringify({ error: { message: 'slow down '.repeat(1000) } }));
          return;
        case '/big':
          res.writeHead(200, { 'content-type': 'text/plain' });
          for (let i = 0; i < 64; i++) res.write('x'.repeat(1024));
          res.end();
          return;
        case '/sse':
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: one\n\n');
          setTimeout(() => res.end('data: two\n\n'), 10);
          return;
        case '/sse-json':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"error":{"message":"no"}}');
          return;
        case '/sse-hold':
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: first\n\n');
          held.push(res);
          return;
        default:
          res.writeHead(201, { 'content-type': 'application/json', 'x-echo-auth': String(req.headers.authorization) });
          res.end(JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString('utf8') }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of held) res.end();
  server.closeAllConnections();
  await closeUpstreams();
  await new Promise((r) => server.close(r));
});

const opts = (over: Partial<SendOptions> = {}): SendOptions => ({
  connectMs: 1000,
  headersTimeoutMs: 2000,
  bodyTimeoutMs: 2000,
  signal: new AbortController().signal,
  limitFor: () => 1 << 20,
  ...over,
});
const send = (path: string, over: Partial<SendOptions> = {}) => sendUpstream({ url: `${base}${path}`, headers: { authorization: 'Bearer k' }, body: '{"a":1}' }, opts(over));

/** A sink that records what reaches it. */
function recorder(): StreamSink & { log: string[]; controller?: Dispatcher.DispatchController; done: Promise<void> } {
  let settle!: () => void;
  const done = new Promise<void>((r) => (settle = r));
  const sink = {
    log: [] as string[],
    controller: undefined as Dispatcher.DispatchController | undefined,
    done,
    attach(c: Dispatcher.DispatchController) {
      sink.controller = c;
      sink.log.push('attach');
    },
    data(chunk: Buffer) {
      sink.log.push(`data ${chunk.toString().trim()}`);
    },
    end() {
      sink.log.push('end');
      settle();
    },
    fail(err: Error) {
      sink.log.push(`fail ${(err as { code?: string }).code ?? err.message}`);
      settle();
    },
  };
  return sink;
}

describe('sendUpstream, whole bodies', () => {
  it('POSTs the body and headers to the URL, query kept; answers status, headers and text', async () => {
    const res = await send('/v1/chat/completions?api-version=1');
    expect(res).toMatchObject({ statusCode: 201, streaming: false, truncated: false });
    expect(res.headers['x-echo-auth']).toBe('Bearer k');
    expect(JSON.parse(res.text)).toEqual({ method: 'POST', url: '/v1/chat/completions?api-version=1', body: '{"a":1}' });
  });

  it('passes the status to limitFor: an error body is cut at its own limit, headers kept', async () => {
    const seen: number[] = [];
    const res = await send('/error', { limitFor: (s: number) => (seen.push(s), s >= 400 ? 100 : 1 << 20) });
    expect(seen).toEqual([429]);
    expect(res).toMatchObject({ statusCode: 429, truncated: true });
    expect(res.headers['retry-after']).toBe('7');
    expect(res.text.length).toBeLessThanOrEqual(100);
  });

  it('cuts a long body at the limit and still serves the next call', async () => {
    const res = await send('/big', { limitFor: () => 10_000 });
    expect(res.truncated).toBe(true);
    expect(res.text.length).toBeLessThanOrEqual(10_000);
    expect((await send('/v1/ok')).statusCode).toBe(201);
  });

  it('an aborted signal ends the call: before the headers, during the body, and before it starts', async () => {
    const early = new AbortController();
    const p1 = send('/hang', { signal: early.signal });
    setTimeout(() => early.abort('deadline'), 20);
    await expect(p1).rejects.toMatchObject({ code: 'UND_ERR_ABORTED', cause: 'deadline' });
    const late = new AbortController();
    const p2 = send('/stall', { signal: late.signal });
    setTimeout(() => late.abort('client-closed'), 50);
    await expect(p2).rejects.toMatchObject({ cause: 'client-closed' });
    const before = new AbortController();
    before.abort('deadline');
    await expect(send('/v1/ok', { signal: before.signal })).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
  });

  it("undici's timeouts: no headers, then a stalled body", async () => {
    const o = { headersTimeoutMs: 100, bodyTimeoutMs: 100 };
    await expect(send('/hang', o)).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    await expect(send('/stall', o)).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });

  it('rejects on a refused connection with the socket error code', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(sendUpstream({ url: `http://127.0.0.1:${port}/v1`, headers: {}, body: '' }, opts())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('sendUpstream, streams', () => {
  it('answers at the head and feeds the body into the sink as it comes', async () => {
    const sink = recorder();
    const res = await send('/sse', { stream: sink });
    expect(res).toMatchObject({ statusCode: 200, streaming: true, text: '' });
    await sink.done;
    expect(sink.log).toEqual(['attach', 'data data: one', 'data data: two', 'end']);
  });

  it('a JSON answer to a stream request is a whole body, not a stream', async () => {
    const sink = recorder();
    const res = await send('/sse-json', { stream: sink });
    expect(res).toMatchObject({ statusCode: 200, streaming: false, text: '{"error":{"message":"no"}}' });
    expect(sink.log).toEqual([]);
  });

  it('an error status is a whole body too', async () => {
    const sink = recorder();
    expect(await send('/error', { stream: sink })).toMatchObject({ statusCode: 429, streaming: false });
    expect(sink.log).toEqual([]);
  });

  it('an abort after the head reaches the sink as a failure', async () => {
    const sink = recorder();
    const ac = new AbortController();
    await send('/sse-hold', { stream: sink, signal: ac.signal });
    ac.abort('client-closed');
    await sink.done;
    expect(sink.log).toEqual(['attach', 'data data: first', 'fail UND_ERR_ABORTED']);
  });

  it('the sink can pause the upstream from its data callback, and resume it', async () => {
    const sink = recorder();
    const data = sink.data;
    sink.data = (chunk: Buffer) => {
      data(chunk);
      sink.controller!.pause(); // as StreamSession does past its high-water mark
    };
    await send('/sse-hold', { stream: sink });
    const res = held.at(-1)!;
    res.write('data: while paused\n\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.log).toEqual(['attach', 'data data: first']);
    sink.data = data;
    sink.controller!.resume();
    res.end('data: last\n\n');
    await sink.done;
    expect(sink.log.join('|')).toMatch(/^attach\|data data: first\|data data: while paused(\|data data: last)?.*\|end$/s);
  });
});

describe('what upstream.ts loads', () => {
  it("undici's Agent module, not its index (fetch, WebSocket, cache, request API: memory in every pod)", () => {
    const file = fileURLToPath(new URL('./upstream.ts', import.meta.url));
    const script = `await import(${JSON.stringify(file)}); const { createRequire } = await import('node:module'); const r = createRequire(import.meta.url); process.stdout.write(JSON.stringify(Object.keys(r.cache).filter((k) => k.includes('undici')).map((k) => k.slice(k.lastIndexOf('undici')))));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    expect(loaded).toContain('undici/lib/dispatcher/agent.js');
    expect(loaded).not.toContain('undici/index.js');
    expect(loaded.filter((m) => /\/(fetch|websocket|cache|api)\//.test(m))).toEqual([]);
  });
});
