import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coversNames, createCertificateAuthority, createServingCertificate, keyMatches, serviceDnsNames, splitPemCertificates } from './certs.ts';
import { namedBits, oid, smallInteger, time, tlv, unsignedInteger } from './der.ts';

const NOW = new Date('2030-01-01T00:00:00Z');
const HOUR = 3600_000;

describe('DER', () => {
  it('encodes lengths, integers, OIDs, named bits and times', () => {
    expect(tlv(4, Buffer.alloc(300)).subarray(0, 4).toString('hex')).toBe('0482012c');
    expect(smallInteger(2).toString('hex')).toBe('020102');
    expect(smallInteger(255).toString('hex')).toBe('020200ff');
    expect(unsignedInteger(Buffer.from([0, 0, 1])).toString('hex')).toBe('020101');
    expect(oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
    expect(namedBits([0, 5, 6]).toString('hex')).toBe('03020186');
    expect(namedBits([0]).toString('hex')).toBe('03020780');
    expect(time(new Date('2049-12-31T23:59:59Z')).toString('latin1')).toMatch(/^\x17\x0d491231235959Z$/);
    expect(time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toMatch(/^\x18\x0f20500101000000Z$/);
  });
});

describe('webhook certificates', () => {
  const ca = createCertificateAuthority({ commonName: 'llmroute-webhook-ca', now: NOW, validityMs: 10 * HOUR });
  const names = serviceDnsNames('llmroute-webhook', 'llmroute-system');
  const serving = createServingCertificate({ ca, dnsNames: names, ipAddresses: ['127.0.0.1', '::1'], now: NOW, validityMs: HOUR });

  it('a self-signed CA', () => {
    const c = new X509Certificate(ca.certPem);
    expect(c.ca).toBe(true);
    expect(c.subject).toContain('CN=llmroute-webhook-ca');
    expect(c.verify(c.publicKey)).toBe(true);
    expect(keyMatches(c, ca.keyPem)).toBe(true);
    expect(Date.parse(c.validTo)).toBe(NOW.getTime() + 10 * HOUR);
  });

  it('a serving certificate signed by it, for the Service names and the IPs', () => {
    const c = new X509Certificate(serving.certPem);
    expect(c.ca).toBe(false);
    expect(c.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(c.checkHost('llmroute-webhook.llmroute-system.svc')).toBe('llmroute-webhook.llmroute-system.svc');
    expect(c.checkHost('llmroute-webhook.llmroute-system.svc.cluster.local')).toBeTruthy();
    expect(c.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(coversNames(c, names, ['127.0.0.1'])).toBe(true);
    expect(coversNames(c, ['other.svc'], [])).toBe(false);
    expect(keyMatches(c, serving.keyPem)).toBe(true);
    expect(keyMatches(c, ca.keyPem)).toBe(false);
    expect(Date.parse(c.validFrom)).toBe(NOW.getTime() - 5 * 60_000);
  });

  it('never outlives its CA', () => {
    const long = createServingCertificate({ ca, dnsNames: ['x'], now: NOW, validityMs: 100 * HOUR });
    expect(new X509Certificate(long.certPem).validTo).toBe(new X509Certificate(ca.certPem).validTo);
  });

  it('openssl accepts the chain for TLS server use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmroute-certs-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), ca.certPem);
      writeFileSync(join(dir, 'srv.pem'), serving.certPem);
      let out: string;
      try {
        out = execFileSync('openssl', ['verify', '-attime', String(NOW.getTime() / 1000 + 60), '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'srv.pem')], { encoding: 'utf8' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // no openssl here: Node's checks above stand
        throw err;
      }
      expect(out).toContain('OK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits a PEM bundle and skips garbage', () => {
    expect(splitPemCertificates(ca.certPem + serving.certPem + '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toHaveLength(2);
    expect(splitPemCertificates('')).toEqual([]);
  });
});
