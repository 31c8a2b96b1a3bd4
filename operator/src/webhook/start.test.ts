import { afterAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCertificateAuthority, createServingCertificate, type KeyAndCert } from './certs.ts';
import { startWebhook } from './start.ts';

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

function served(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem }, () => {
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
      expect(await served(h.port)).toBe(new X509Certificate(first.certPem).fingerprint256);
      const second = await issue();
      put(second);
      const want = new X509Certificate(second.certPem).fingerprint256;
      for (let i = 0; i < 100 && (await served(h.port)) !== want; i++) await sleep(20);
      expect(await served(h.port)).toBe(want);
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
