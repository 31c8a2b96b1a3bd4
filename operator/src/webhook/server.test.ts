import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { createCertificateAuthority, createServingCertificate, type KeyAndCert } from './certs.ts';
import { startWebhookServer, type WebhookServer } from './server.ts';

const now = new Date();
const ca = await createCertificateAuthority({ commonName: 'test-ca', now, validityMs: 3600_000 });
const cert1 = await createServingCertificate({ ca, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now, validityMs: 3600_000 });
const cert2 = await createServingCertificate({ ca, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], now, validityMs: 1800_000 });

function call(port: number, method: string, path: string, body?: string | Buffer): Promise<{ status: number; json: any; peer: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path, ca: ca.certPem, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      const peer = new X509Certificate((res.socket as import('node:tls').TLSSocket).getPeerCertificate(false).raw);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined, peer });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('webhook server', () => {
  let server: WebhookServer;
  const logs: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  beforeAll(async () => {
    const push = (msg: string, fields?: Record<string, unknown>) => logs.push({ msg, ...(fields ? { fields } : {}) });
    server = await startWebhookServer({ port: 0, host: '127.0.0.1', certificate: cert1, inject: { image: 'sidecar:1' }, log: { info: push, warn: push, error: push }, maxBodyBytes: 64 * 1024 });
  });
  afterAll(() => server.close());

  const review = (object: unknown) =>
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, operation: 'CREATE', namespace: 'shop', object },
    });

  it('serves /healthz and mutates on /mutate-pods (the query string the API server adds is fine)', async () => {
    expect((await call(server.port, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
    const res = await call(server.port, 'POST', '/mutate-pods?timeout=5s', review({ metadata: { name: 'p', labels: { 'llmroute.dev/inject': 'true' } }, spec: { containers: [{ name: 'a', image: 'a' }] } }));
    expect(res.status).toBe(200);
    expect(res.json.response).toMatchObject({ uid: 'u-1', allowed: true, patchType: 'JSONPatch' });
    expect(logs.some((l) => l.msg === 'pod injected' && l.fields?.pod === 'p')).toBe(true);
  });

  it('never crashes on bad input', async () => {
    expect((await call(server.port, 'POST', '/mutate-pods', '{not json')).status).toBe(400);
    expect((await call(server.port, 'POST', '/mutate-pods', '{}')).status).toBe(400);
    expect((await call(server.port, 'POST', '/mutate-pods', Buffer.alloc(100 * 1024, 'a'))).status).toBe(413);
    expect((await call(server.port, 'GET', '/mutate-pods')).status).toBe(405);
    expect((await call(server.port, 'GET', '/nope')).status).toBe(404);
    expect((await call(server.port, 'GET', '/healthz')).status).toBe(200);
  });

  it('swaps the serving certificate for new connections', async () => {
    expect((await call(server.port, 'GET', '/healthz')).peer.fingerprint256).toBe(new X509Certificate(cert1.certPem).fingerprint256);
    server.setCertificate(cert2 as KeyAndCert);
    expect((await call(server.port, 'GET', '/healthz')).peer.fingerprint256).toBe(new X509Certificate(cert2.certPem).fingerprint256);
  });
});
