/**
 * Sends one request upstream with undici. One keep-alive Agent per connect
 * timeout value (connect timeouts are an Agent setting); header and body
 * timeouts are per request. Pure transport: no classification here.
 */
import type { Dispatcher } from 'undici';
// undici's Agent and request modules alone, not its index (see lean-imports.d.ts).
import Agent from 'undici/lib/dispatcher/agent.js';
import request from 'undici/lib/api/api-request.js';
import type { UpstreamRequest } from './providers/types.ts';

const agents = new Map<number, Agent>();

function agentFor(connectMs: number): Agent {
  let agent = agents.get(connectMs);
  if (!agent) {
    agent = new Agent({
      connect: { timeout: connectMs },
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      pipelining: 1,
    });
    agents.set(connectMs, agent);
  }
  return agent;
}

export interface SendOptions {
  connectMs: number;
  /** Until the response headers arrive. */
  headersTimeoutMs: number;
  /** Longest gap between body chunks. */
  bodyTimeoutMs: number;
  signal: AbortSignal;
}

/** Target URLs split into origin and path, parsed once each: a route has a handful of them. */
const splitURLs = new Map<string, { origin: string; path: string }>();

function splitURL(href: string): { origin: string; path: string } {
  let s = splitURLs.get(href);
  if (!s) {
    const url = new URL(href);
    s = { origin: url.origin, path: url.pathname + url.search };
    if (splitURLs.size >= 1024) splitURLs.clear();
    splitURLs.set(href, s);
  }
  return s;
}

export function sendUpstream(req: UpstreamRequest, o: SendOptions): Promise<Dispatcher.ResponseData> {
  const url = splitURL(req.url);
  return request.call(agentFor(o.connectMs), {
    origin: url.origin,
    path: url.path,
    method: 'POST',
    headers: req.headers,
    body: req.body,
    signal: o.signal,
    headersTimeout: o.headersTimeoutMs,
    bodyTimeout: o.bodyTimeoutMs,
  });
}

export interface BufferedResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as UTF-8 text, cut at the limit. */
  text: string;
  /** The body was longer than the limit: the rest was not read and the connection was closed. */
  truncated: boolean;
}

/**
 * Sends a request whose whole answer is wanted at once (non-stream calls)
 * and collects the body straight from undici's dispatch handler: no body
 * stream, no events, no promise per chunk. Measured against request() +
 * readText, this is the cheapest way to a whole body (bench/README.md).
 * `limitFor(status)` caps what is kept, by status (small for errors).
 * Rejects with undici's or the socket's error; when `signal` aborts, with
 * its reason wrapped in an Error (the caller reads `signal.reason`).
 */
export function sendUpstreamBuffered(req: UpstreamRequest, o: SendOptions & { limitFor: (status: number) => number }): Promise<BufferedResponse> {
  const url = splitURL(req.url);
  return new Promise((resolve, reject) => {
    const signal = o.signal;
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    let statusCode = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    let limit = 0;
    let size = 0;
    const chunks: Buffer[] = [];
    const abortError = (): Error => Object.assign(new Error('the request was aborted'), { name: 'AbortError', code: 'UND_ERR_ABORTED', cause: signal.reason as unknown });
    const onAbort = (): void => controller?.abort(abortError());
    const settle = (err: Error | null, truncated = false): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err) return reject(err);
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      resolve({ statusCode, headers, text, truncated });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    agentFor(o.connectMs).dispatch(
      { origin: url.origin, path: url.path, method: 'POST', headers: req.headers, body: req.body, headersTimeout: o.headersTimeoutMs, bodyTimeout: o.bodyTimeoutMs },
      {
        onRequestStart(c) {
          controller = c;
          if (signal.aborted) c.abort(abortError());
        },
        onResponseStart(_c, status, h) {
          // 1xx heads come first and are dropped; the final one wins.
          statusCode = status;
          headers = h;
          limit = o.limitFor(status);
        },
        onResponseData(c, chunk) {
          if (settled) return;
          size += chunk.length;
          if (size > limit) {
            settle(null, true);
            c.abort(new Error('response body over the limit'));
            return;
          }
          chunks.push(chunk);
        },
        onResponseEnd() {
          settle(null);
        },
        onResponseError(_c, err) {
          settle(err);
        },
      },
    );
  });
}

/** Reads a body as text, up to `limit` bytes (the rest is dropped and the socket released). */
export function readText(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  // Events rather than `for await`: no async iterator and no promise per chunk on the hot path.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const text = (): string => (chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    const detach = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        detach();
        body.on('error', ignore);
        body.destroy();
        resolve(text());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      detach();
      resolve(text());
    };
    const onError = (err: Error): void => {
      detach();
      reject(err);
    };
    // Closed with neither an end nor an error: what `for await` reports as a premature close.
    const onClose = (): void => {
      detach();
      reject(prematureClose());
    };
    if (body.destroyed) {
      reject(body.errored ?? prematureClose());
      return;
    }
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
  });
}

function ignore(): void {}

function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** Closes every upstream connection (at shutdown). */
export async function closeUpstreams(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close().catch(() => undefined)));
  agents.clear();
}
