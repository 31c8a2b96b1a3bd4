/**
 * What the cloud fakes (fake-gemini.ts, fake-bedrock.ts) share: an HTTP
 * server on 127.0.0.1 that records requests, a script queue of behaviours
 * (then a fallback behaviour, then ok) as fake-provider.ts has, sockets
 * destroyed on close, and timers that die with their response.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface CloudRequest {
  n: number;
  method: string;
  path: string;
  pathname: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: any;
  rawBody: string;
  /** What was done: a behaviour kind, or why the request was refused (auth-failed, invalid, not-found). */
  outcome: string;
}

/** One response in progress: sleeps end when the client goes away or the fake closes. */
export class Job {
  dead = false;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #wakers = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    if (this.dead || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        this.#wakers.delete(resolve);
        resolve();
      }, ms);
      this.#timers.add(t);
      this.#wakers.add(resolve);
    });
  }

  kill(): void {
    this.dead = true;
    for (const t of this.#timers) clearTimeout(t);
    for (const w of this.#wakers) w();
    this.#timers.clear();
    this.#wakers.clear();
  }
}

export type Handler<B> = (req: CloudRequest, res: ServerResponse, job: Job, next: () => B | undefined) => Promise<void> | void;

export class CloudServer<B extends { kind: string }> {
  readonly requests: CloudRequest[] = [];
  origin = '';
  port = 0;
  #queue: B[] = [];
  #fallback: B | ((req: CloudRequest, n: number) => B | undefined) | undefined;
  #selections = 0;
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  readonly #jobs = new Set<Job>();

  constructor(handler: Handler<B>, fallback?: B | ((req: CloudRequest, n: number) => B | undefined)) {
    this.#fallback = fallback;
    this.#server = http.createServer({ keepAlive: true, requestTimeout: 0 }, (req, res) => void this.#onRequest(req, res, handler));
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
    this.origin = `http://127.0.0.1:${this.port}`;
  }

  script(...b: B[]): void {
    this.#queue.push(...b);
  }

  setBehaviour(b: B | ((req: CloudRequest, n: number) => B | undefined) | undefined): void {
    this.#fallback = b;
  }

  reset(): void {
    this.requests.length = 0;
    this.#queue = [];
    this.#selections = 0;
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse, handler: Handler<B>): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const rec: CloudRequest = {
      n: this.requests.length,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      pathname: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      rawBody,
      outcome: 'pending',
    };
    this.requests.push(rec);
    const job = new Job();
    this.#jobs.add(job);
    res.on('close', () => {
      job.kill();
      this.#jobs.delete(job);
    });
    const next = (): B | undefined => {
      const n = this.#selections++;
      const b = this.#queue.shift() ?? (typeof this.#fallback === 'function' ? this.#fallback(rec, n) : this.#fallback);
      rec.outcome = b?.kind ?? 'ok';
      return b;
    };
    try {
      await handler(rec, res, job, next);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake failure: ${String(err)}`);
    }
  }

  async close(): Promise<void> {
    for (const j of this.#jobs) j.kill();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Writes and resolves once the data is handed to the kernel. */
export function writeFlushed(res: ServerResponse, data: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    res.write(data, () => resolve());
  });
}

/** Splits `text` into `n` pieces (the last takes the rest). */
export function pieces(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}
