import { beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canonicalIp,
  coversNames,
  createCertificateAuthority,
  createServingCertificate,
  keyMatches,
  serviceDnsNames,
  splitPemCertificates,
  type KeyAndCert,
} from './certs.ts';

const NOW = new Date('2030-01-01T00:00:00Z');
const HOUR = 3600_000;

describe('webhook certificates', () => {
  const names = serviceDnsNames('llmroute-webhook', 'llmroute-system');
  let ca: KeyAndCert;
  let serving: KeyAndCert;
  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: 'llmroute-webhook-ca', now: NOW, validityMs: 10 * HOUR });
    serving = await createServingCertificate({ ca, dnsNames: names, ipAddresses: ['127.0.0.1', '::1'], now: NOW, validityMs: HOUR });
  });

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

  it('never outlives its CA', async () => {
    const long = await createServingCertificate({ ca, dnsNames: ['x'], now: NOW, validityMs: 100 * HOUR });
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

describe('IP address names', () => {
  const dnsNames = ['llmroute-webhook.llmroute-system.svc', 'localhost'];
  const ipAddresses = ['fd00::1', '::ffff:10.0.0.1', '10.0.0.1'];
  let ca: KeyAndCert;
  let cert: X509Certificate;
  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: 'ca', now: NOW, validityMs: 10 * HOUR });
    cert = new X509Certificate((await createServingCertificate({ ca, dnsNames, ipAddresses, now: NOW, validityMs: HOUR })).certPem);
  });

  it('are written as addresses: IPv6 in 16 bytes, IPv4 and IPv4-mapped IPv6 as the IPv4 address in 4 (once)', async () => {
    expect(cert.subjectAltName).toBe('DNS:llmroute-webhook.llmroute-system.svc, DNS:localhost, IP Address:FD00:0:0:0:0:0:0:1, IP Address:10.0.0.1');
    const mappedOnly = new X509Certificate((await createServingCertificate({ ca, dnsNames: [], ipAddresses: ['::ffff:10.0.0.1'], now: NOW, validityMs: HOUR })).certPem);
    expect(mappedOnly.subjectAltName).toBe('IP Address:10.0.0.1'); // it was 'IP Address:<invalid length=15>'
  });

  it('satisfy a TLS client’s host and IP checks', () => {
    for (const d of dnsNames) expect(cert.checkHost(d)).toBe(d);
    for (const ip of ['fd00::1', 'FD00:0::1', '10.0.0.1']) expect(cert.checkIP(ip)).toBe(ip);
    // OpenSSL compares the bytes: the 16-byte spelling does not match the 4-byte name (Go's VerifyHostname, the API server's, does).
    expect(cert.checkIP('::ffff:10.0.0.1')).toBeUndefined();
    expect(cert.checkIP('fd00::2')).toBeUndefined();
  });

  it('count as covered in any spelling; a missing name does not', () => {
    expect(coversNames(cert, dnsNames, ipAddresses)).toBe(true);
    expect(coversNames(cert, [], ['FD00:0:0:0:0:0:0:1', 'fd00:0::1', '::FFFF:a00:1', '0:0:0:0:0:ffff:10.0.0.1', '10.0.0.1'])).toBe(true);
    expect(coversNames(cert, dnsNames, [...ipAddresses, 'fd00::2'])).toBe(false);
    expect(coversNames(cert, dnsNames, [...ipAddresses, '10.0.0.2'])).toBe(false);
    expect(coversNames(cert, [...dnsNames, 'other.svc'], ipAddresses)).toBe(false);
    expect(coversNames(cert, dnsNames, ['not-an-ip'])).toBe(false);
  });

  it('a certificate lacking a name does not cover it', async () => {
    const v4only = new X509Certificate((await createServingCertificate({ ca, dnsNames, ipAddresses: ['10.0.0.1'], now: NOW, validityMs: HOUR })).certPem);
    expect(coversNames(v4only, dnsNames, ['10.0.0.1', '::ffff:10.0.0.1'])).toBe(true);
    expect(coversNames(v4only, dnsNames, ['fd00::1'])).toBe(false);
    expect(coversNames(v4only, dnsNames, ['::ffff:10.0.0.2'])).toBe(false);
  });

  it('canonicalIp: one spelling per address; anything else is refused', () => {
    expect(canonicalIp('FD00:0:0:0:0:0:0:1')).toBe('fd00::1');
    expect(canonicalIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIp('::FFFF:c0a8:ff01')).toBe('192.168.255.1');
    expect(canonicalIp('::ffff:0:a00:1')).toBe('::ffff:0:a00:1'); // IPv4-translated, not mapped: IPv6
    expect(canonicalIp('::10.0.0.1')).toBe('::a00:1');
    expect(canonicalIp('10.0.0.1')).toBe('10.0.0.1');
    for (const bad of ['fe80::1%eth0', 'localhost', '10.0.0', '']) {
      expect(() => canonicalIp(bad)).toThrow(expect.objectContaining({ code: 'webhook_certificate' }));
    }
  });
});

describe('keys', () => {
  it('the CA and serving keys are PKCS#8 P-256; a CA key of another kind is refused without showing it', async () => {
    const ca = await createCertificateAuthority({ commonName: 'ca', now: NOW, validityMs: HOUR });
    const serving = await createServingCertificate({ ca, dnsNames: ['x'], now: NOW, validityMs: HOUR });
    for (const pem of [ca.keyPem, serving.keyPem]) expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(new X509Certificate(serving.certPem).publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    const garbage = { certPem: ca.certPem, keyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' };
    const err = await createServingCertificate({ ca: garbage, dnsNames: ['x'], now: NOW, validityMs: HOUR }).catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: 'webhook_certificate', message: 'the CA key is not a readable ECDSA P-256 private key' });
  });
});
