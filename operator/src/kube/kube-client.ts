/**
 * A small JSON client for the Kubernetes API: plain requests and watch
 * streams over node:http(s), one keep-alive agent. A ClusterAccess
 * (cluster-access.ts) supplies the server, the TLS material and the
 * credentials, applied again on every request (tokens rotate: in-cluster
 * ServiceAccount tokens, exec plugins). Raw JSON in and
 * out, so custom resources and every content type (server-side apply, merge
 * patch) pass through untouched.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, KubeTransportError } from '../errors.ts';
import { requestKind, type RequestKind } from './paths.ts';
import { isKubeConfig, kubeConfigAccess, type ClusterAccess } from './cluster-access.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query | undefined;
  body?: unknown;
  /** Default application/json when there is a body. */
  contentType?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Default: the client's requestTimeoutMs. */
  timeoutMs?: number | undefined;
  /** More request headers (e.g. an Accept for the Table format). */
  headers?: Record<string, string> | undefined;
}

export interface WatchEvent<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface KubeClientOptions {
  /** Default 30 s. */
  requestTimeoutMs?: number;
  userAgent?: string;
  /** Called once per request sent (lists, watches and writes alike), for the metrics. */
  onRequest?: (kind: RequestKind) => void;
}

interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: Array<{ reason?: string }> };
}

export class KubeClient {
  readonly server: URL;
  readonly #access: ClusterAccess;
  #agent: Promise<http.Agent> | undefined;
  #agentMade: http.Agent | undefined;
  readonly #requestTimeoutMs: number;
  readonly #userAgent: string;
  readonly #onRequest: ((kind: RequestKind) => void) | undefined;

  /** A ClusterAccess (cluster-access.ts), or a client-node KubeConfig (tests, exec plugins). */
  constructor(kc: ClusterAccess | KubeConfig, o: KubeClientOptions = {}) {
    if (isKubeConfig(kc) && !kc.getCurrentCluster()) throw new KubeTransportError('CONNECT', '', 'the kubeconfig has no current cluster');
    this.#access = isKubeConfig(kc) ? kubeConfigAccess(kc) : kc;
    this.server = new URL(this.#access.server);
    this.#requestTimeoutMs = o.requestTimeoutMs ?? 30_000;
    this.#userAgent = o.userAgent ?? 'llmroute-operator';
    this.#onRequest = o.onRequest;
  }

  /** One request; resolves to the parsed JSON body, rejects with KubeApiError or KubeTransportError. */
  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.#send(method, path, o, o.timeoutMs ?? this.#requestTimeoutMs);
    const text = await readBody(res, method, path);
    if ((res.statusCode ?? 0) >= 400) throw apiError(res.statusCode ?? 0, text, method, path);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Opens a watch and calls onEvent for each event. Resolves when the server
   * ends the stream (its timeoutSeconds) or the signal aborts; rejects with a
   * KubeApiError for an HTTP error or an ERROR event (410 Expired among them),
   * or a KubeTransportError.
   */
  async watch<T>(path: string, query: Query, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    // No request timeout: the server closes the stream after timeoutSeconds;
    // the caller's signal bounds it on this side.
    const res = await this.#send('GET', path, { query: { ...query, watch: true }, signal }, 0);
    if ((res.statusCode ?? 0) >= 400) throw apiError(res.statusCode ?? 0, await readBody(res, 'WATCH', path), 'WATCH', path);
    return new Promise<void>((resolve, reject) => {
      let buffered = '';
      let failed = false;
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        res.destroy();
        reject(err);
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) !== -1) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line || failed) continue;
          let event: WatchEvent<T>;
          try {
            event = JSON.parse(line) as WatchEvent<T>;
          } catch {
            fail(new KubeTransportError('WATCH', path, 'a watch event that is not JSON'));
            return;
          }
          if (event.type === 'ERROR') {
            const st = event.object as KubeStatus;
            fail(apiError(st.code ?? 500, JSON.stringify(st), 'WATCH', path));
            return;
          }
          try {
            onEvent(event);
          } catch (err) {
            fail(err as Error);
            return;
          }
        }
      });
      res.on('end', () => {
        if (!failed) resolve();
      });
      res.on('error', (err) => {
        if (signal.aborted) resolve();
        else fail(new KubeTransportError('WATCH', path, err));
      });
      res.on('close', () => {
        if (!failed) resolve();
      });
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agentMade?.destroy();
  }

  /** One keep-alive agent for every request, with the TLS material resolved once. */
  #agentFor(): Promise<http.Agent> {
    return (this.#agent ??= (async () => {
      const agent = this.server.protocol === 'https:' ? new https.Agent({ keepAlive: true, ...(await this.#access.tls()) }) : new http.Agent({ keepAlive: true });
      this.#agentMade = agent;
      return agent;
    })());
  }

  async #send(method: string, path: string, o: RequestOptions, timeoutMs: number): Promise<http.IncomingMessage> {
    this.#onRequest?.(requestKind(method, path, { watch: o.query?.watch === true, contentType: o.contentType }));
    const url = new URL(this.server.toString().replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.#userAgent, ...o.headers };
    await this.#access.authorize(headers);
    const opts: https.RequestOptions = { method, agent: await this.#agentFor(), headers };
    if (body !== undefined) {
      headers['content-type'] = o.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = mod.request(url, opts, resolve);
      // Ended on this side: the request fails with our error as it is, not wrapped again.
      const onAbort = () => req.destroy(new KubeTransportError(method, path, 'aborted'));
      if (o.signal) {
        if (o.signal.aborted) onAbort();
        else o.signal.addEventListener('abort', onAbort, { once: true });
        req.once('close', () => o.signal?.removeEventListener('abort', onAbort));
      }
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(new KubeTransportError(method, path, `no answer within ${timeoutMs} ms`)));
      }
      req.on('error', (err) => reject(err instanceof KubeTransportError ? err : new KubeTransportError(method, path, err)));
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }
}

function readBody(res: http.IncomingMessage, method: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (err) => reject(new KubeTransportError(method, path, err)));
  });
}

function apiError(status: number, text: string, method: string, path: string): KubeApiError {
  let st: KubeStatus | undefined;
  try {
    st = JSON.parse(text) as KubeStatus;
  } catch {
    st = undefined;
  }
  const causes = (st?.details?.causes ?? []).map((c) => c.reason ?? '').filter(Boolean);
  return new KubeApiError({
    status: st?.code ?? status,
    reason: st?.reason,
    message: (st?.message ?? text.slice(0, 300)) || `HTTP ${status}`,
    method,
    path,
    causes,
  });
}
