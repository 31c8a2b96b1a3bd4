/**
 * Sends one request upstream with undici. One keep-alive Agent per connect
 * timeout value (connect timeouts are an Agent setting); header and body
 * timeouts are per request. Pure transport: no classification here.
 */
import { Agent, type Dispatcher } from 'undici';
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
  return agentFor(o.connectMs).request({
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
