/**
 * Sends one request upstream with undici. One keep-alive Agent per connect
 * timeout value (connect timeouts are an Agent setting); header and body
 * timeouts are per request. Pure transport: no classification here.
 *
 * The answer is taken straight from undici's dispatch handler, not through
 * its request() API: no body stream, no events, no promise per chunk. A
 * whole body is collected into one string; an event stream is fed into a
 * StreamSink as it arrives. Measured in bench/README.md ("Hot spots").
 */
import type { Dispatcher } from 'undici';
// undici's Agent module alone, not its index (see lean-imports.d.ts).
import Agent from 'undici/lib/dispatcher/agent.js';
import { UpstreamAbortedError } from './errors.ts';
import type { UpstreamRequest } from './providers/types.ts';
import type { StreamSink } from './stream-session.ts';

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
  /** The most of a whole body kept, by status (small for errors); the rest is not read. */
  limitFor: (status: number) => number;
  /** Where a 2xx answer that is not JSON (an event stream) goes, when the caller asked for a stream. */
  stream?: StreamSink | undefined;
}

export interface UpstreamAnswer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** True when the body goes to `stream` (and `text` is empty). */
  streaming: boolean;
  /** A whole body as UTF-8 text, cut at the limit. */
  text: string;
  /** The body was longer than the limit: the rest was not read and the connection was closed. */
  truncated: boolean;
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

function isJson(headers: Record<string, string | string[] | undefined>): boolean {
  const type = headers['content-type'];
  return (typeof type === 'string' ? type : String(type ?? '')).includes('application/json');
}

/**
 * Sends a request (a POST unless `req.method` says otherwise) and resolves with the answer's head: with the whole body
 * (non-stream calls, errors, JSON), or once the body starts flowing into
 * `o.stream`. Rejects with undici's or the socket's error; when `signal`
 * aborts, with an UpstreamAbortedError whose cause is the signal's reason.
 * An abort or a failure after the head reaches the stream as `fail`.
 */
export function sendUpstream(req: UpstreamRequest, o: SendOptions): Promise<UpstreamAnswer> {
  const url = splitURL(req.url);
  return new Promise((resolve, reject) => {
    const signal = o.signal;
    let controller: Dispatcher.DispatchController | undefined;
    let answered = false;
    let finished = false;
    let sink: StreamSink | undefined;
    let statusCode = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    let limit = 0;
    let size = 0;
    const chunks: Buffer[] = [];
    const abortError = (): Error => new UpstreamAbortedError('the request was aborted', signal.reason);
    const onAbort = (): void => controller?.abort(abortError());
    const finish = (): void => {
      finished = true;
      signal.removeEventListener('abort', onAbort);
    };
    const answer = (truncated: boolean): void => {
      answered = true;
      const text = chunks.length === 0 ? '' : chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      resolve({ statusCode, headers, streaming: false, text, truncated });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    agentFor(o.connectMs).dispatch(
      { origin: url.origin, path: url.path, method: req.method ?? 'POST', headers: req.headers, body: req.method === undefined || req.method === 'POST' ? req.body : null, headersTimeout: o.headersTimeoutMs, bodyTimeout: o.bodyTimeoutMs },
      {
        onRequestStart(c) {
          controller = c;
          if (signal.aborted) c.abort(abortError());
        },
        onResponseStart(c, status, h) {
          // 1xx heads come first and are dropped; the final one wins.
          statusCode = status;
          headers = h;
          if (status < 200) return;
          if (o.stream && status < 300 && !isJson(h)) {
            sink = o.stream;
            sink.attach(c);
            answered = true;
            resolve({ statusCode, headers, streaming: true, text: '', truncated: false });
            return;
          }
          limit = o.limitFor(status);
        },
        onResponseData(c, chunk) {
          if (sink) return sink.data(chunk);
          if (answered) return;
          size += chunk.length;
          if (size > limit) {
            answer(true);
            c.abort(new UpstreamAbortedError('response body over the limit'));
            return;
          }
          chunks.push(chunk);
        },
        onResponseEnd() {
          finish();
          if (sink) sink.end();
          else if (!answered) answer(false);
        },
        onResponseError(_c, err) {
          if (finished) return;
          finish();
          if (sink) sink.fail(err);
          else if (!answered) {
            answered = true;
            reject(err);
          }
        },
      },
    );
  });
}

/** Closes every upstream connection (at shutdown). */
export async function closeUpstreams(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close().catch(() => undefined)));
  agents.clear();
}
