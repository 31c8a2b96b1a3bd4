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

export function sendUpstream(req: UpstreamRequest, o: SendOptions): Promise<Dispatcher.ResponseData> {
  const url = new URL(req.url);
  return agentFor(o.connectMs).request({
    origin: url.origin,
    path: url.pathname + url.search,
    method: 'POST',
    headers: req.headers,
    body: req.body,
    signal: o.signal,
    headersTimeout: o.headersTimeoutMs,
    bodyTimeout: o.bodyTimeoutMs,
  });
}

/** Reads a body as text, up to `limit` bytes (the rest is dropped and the socket released). */
export async function readText(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Closes every upstream connection (at shutdown). */
export async function closeUpstreams(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close().catch(() => undefined)));
  agents.clear();
}
