import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { createCertificateAuthority, createServingCertificate, type KeyAndCert } from './certs.ts';
import { startWebhook, type ManagedTls } from './start.ts';
import type { KubeRequester, SecretObject, WebhookConfigurationObject } from './tls-store.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'llmroute-certdir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const now = new Date();
const ca = await createCertificateAuthority({ commonName: 'cm-ca', now, validityMs: 3600_000 });
const issue = () => createServingCertificate({ ca, dnsNames: ['llmroute-webhook.x.svc'], ipAddresses: ['127.0.0.1'], now, validityMs: 3600_000 });

/** Like the kubelet: write beside, then swap in. */
function put(c: KeyAndCert): void {
  writeFileSync(path.join(dir, 'tls.crt.tmp'), c.certPem);
  writeFileSync(path.join(dir, 'tls.key.tmp'), c.keyPem);
  renameSync(path.join(dir, 'tls.key.tmp'), path.join(dir, 'tls.key'));
  renameSync(path.join(dir, 'tls.crt.tmp'), path.join(dir, 'tls.crt'));
}

const fingerprint = (c: KeyAndCert) => new X509Certificate(c.certPem).fingerprint256;

// The webhook's default clock reads Date.now and the global timers: these are jest's. Sockets and WebCrypto work as ever.
beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
});
afterEach(() => {
  jest.useRealTimers();
});

function served(port: number, caPem = ca.certPem): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: caPem }, () => {
      resolve(new X509Certificate(s.getPeerCertificate(false).raw).fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

describe('startWebhook with certificate files (cert-manager)', () => {
  it('serves the files and reloads them when they change', async () => {
    const first = await issue();
    put(first);
    const h = await startWebhook({ port: 0, host: '127.0.0.1', sidecarImage: 's:1', tls: { mode: 'files', certDir: dir, intervalMs: 50 } });
    try {
      expect(await served(h.port)).toBe(fingerprint(first));
      const second = await issue();
      put(second);
      await jest.advanceTimersByTimeAsync(49);
      expect(await served(h.port)).toBe(fingerprint(first)); // the next poll is 50 ms after the last
      await jest.advanceTimersByTimeAsync(1);
      expect(await served(h.port)).toBe(fingerprint(second));
      expect(h.certificate().certPem).toBe(second.certPem);
    } finally {
      await h.stop();
    }
  });

  it('refuses to start without a matching pair', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'llmroute-certdir-'));
    try {
      await expect(startWebhook({ port: 0, sidecarImage: 's:1', tls: { mode: 'files', certDir: empty } })).rejects.toMatchObject({ code: 'webhook_start' });
      const a = await issue();
      writeFileSync(path.join(empty, 'tls.crt'), a.certPem);
      writeFileSync(path.join(empty, 'tls.key'), (await issue()).keyPem);
      await expect(startWebhook({ port: 0, sidecarImage: 's:1', tls: { mode: 'files', certDir: empty } })).rejects.toThrow(/is not the key of/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

/** An API server holding one Secret and one webhook configuration; refuses the first `failures` calls. */
function fakeKube(failures: number) {
  const calls: string[] = [];
  let secret: SecretObject | undefined;
  let config: WebhookConfigurationObject = { metadata: { name: 'llmroute', resourceVersion: '1' }, webhooks: [{ name: 'inject.llmroute.dev', clientConfig: {} }] };
  const kube: KubeRequester = {
    async request<T>(method: string, path: string, o?: { body?: unknown }): Promise<T> {
      const what = path.includes('/secrets/') ? 'secret' : 'config';
      calls.push(`${method} ${what}`);
      if (calls.length <= failures) throw Object.assign(new Error('secrets "llmroute-webhook-tls" is forbidden'), { status: 403 });
      if (method === 'GET' && what === 'secret') {
        if (!secret) throw Object.assign(new Error('not found'), { status: 404 });
        return structuredClone(secret) as T;
      }
      if (method === 'GET') return structuredClone(config) as T;
      if (what === 'secret') secret = o?.body as SecretObject;
      else config = o?.body as WebhookConfigurationObject;
      return o?.body as T;
    },
  };
  const caPem = () => Buffer.from(secret?.data?.['ca.crt'] ?? '', 'base64').toString();
  return { kube, calls, caPem };
}

describe('startWebhook with managed certificates', () => {
  const managed = (kube: KubeRequester, startTimeoutMs?: number): ManagedTls => ({
    mode: 'managed',
    kube,
    namespace: 'x',
    ipAddresses: ['127.0.0.1'],
    ...(startTimeoutMs ? { startTimeoutMs } : {}),
  });

  it('retries the first certificate with backoff (400 ms, 800 ms, ...), then serves it', async () => {
    const { kube, calls, caPem } = fakeKube(2);
    const started = startWebhook({ port: 0, host: '127.0.0.1', sidecarImage: 's:1', tls: managed(kube) });
    await jest.advanceTimersByTimeAsync(399);
    expect(calls).toEqual(['GET secret']);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toEqual(['GET secret', 'GET secret']);
    await jest.advanceTimersByTimeAsync(800);
    const h = await started;
    try {
      expect(calls.slice(2)).toEqual(['GET secret', 'GET config', 'PATCH secret', 'PUT config']);
      expect(await served(h.port, caPem())).toBe(fingerprint(h.certificate()));
      // Valid from the clock's now (less five minutes' backdating, to the second).
      expect(new X509Certificate(h.certificate().certPem).validFromDate.getTime()).toBe(Math.floor((Date.now() - 5 * 60_000) / 1000) * 1000);
    } finally {
      await h.stop();
    }
  });

  it('gives up after startTimeoutMs on the clock', async () => {
    const { kube, calls } = fakeKube(Infinity);
    const started = startWebhook({ port: 0, sidecarImage: 's:1', tls: managed(kube, 1_000) });
    const rejected = expect(started).rejects.toMatchObject({ code: 'webhook_start', message: expect.stringContaining('is forbidden') });
    await jest.advanceTimersByTimeAsync(1_000);
    await rejected;
    expect(calls).toHaveLength(3); // at 0, 400 and 1000 ms
  });
});
