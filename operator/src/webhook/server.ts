/**
 * The webhook's HTTPS server: POST /mutate-pods (AdmissionReview v1) and
 * GET /healthz. The serving certificate can be swapped while it runs
 * (setCertificate): new connections use the new one. Bad input never takes
 * it down: a body it cannot read gets a 4xx, a bug a 500, and the API
 * server applies the webhook's failurePolicy to both.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../../../common/log.ts';
import type { InjectOptions } from '../inject/options.ts';
import { admitPod } from './admission.ts';
import type { KeyAndCert } from './certs.ts';

export const MUTATE_PODS_PATH = '/mutate-pods';
/** An AdmissionReview carries at most a few objects of the API server's 3 MiB limit. */
const DEFAULT_MAX_BODY = 8 * 1024 * 1024;

export interface WebhookServerOptions {
  port: number;
  /** Default 0.0.0.0 */
  host?: string;
  certificate: KeyAndCert;
  inject: InjectOptions;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  maxBodyBytes?: number;
}

export interface WebhookServer {
  readonly port: number;
  setCertificate(c: KeyAndCert): void;
  close(): Promise<void>;
}

export async function startWebhookServer(o: WebhookServerOptions): Promise<WebhookServer> {
  const log = o.log ?? silentLogger;
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const server = https.createServer({ cert: o.certificate.certPem, key: o.certificate.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error('webhook request failed', { error: (err as Error)?.message ?? String(err) });
      send(res, 500, { error: 'internal error' });
    });
  });
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 30_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('tlsClientError', () => {});

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://webhook').pathname;
    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' });
      return send(res, 200, { status: 'ok' });
    }
    if (path !== MUTATE_PODS_PATH) return send(res, 404, { error: `no such path: use ${MUTATE_PODS_PATH} or /healthz` });
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });

    const body = await readBody(req, maxBody);
    if (body === 'too-large') return send(res, 413, { error: `the body exceeds ${maxBody} bytes` });
    let review: unknown;
    try {
      review = JSON.parse(body.toString('utf8'));
    } catch {
      log.warn('webhook got a body that is not JSON', { bytes: body.length });
      return send(res, 400, { error: 'the body is not JSON' });
    }
    const outcome = admitPod(review, o.inject);
    const level = outcome.log.decision === 'error' ? 'error' : outcome.log.decision === 'skipped' ? undefined : 'info';
    if (level) log[level](`pod ${outcome.log.decision}`, outcome.log);
    send(res, outcome.httpStatus, outcome.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('webhook server error', { error: err.message }));

  return {
    port: (server.address() as AddressInfo).port,
    setCertificate(c) {
      server.setSecureContext({ cert: c.certPem, key: c.keyPem, minVersion: 'TLSv1.2' });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      if (tooLarge) return;
      size += c.length;
      if (size > max) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
