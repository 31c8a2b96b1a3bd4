/**
 * The webhook's CA and serving certificate: creation, and the checks that
 * say whether what is stored is still good. Certificates are built and
 * signed by @peculiar/x509 on Node's WebCrypto; Node's X509Certificate is
 * the parsed form the rest of the webhook checks. Keys are ECDSA P-256
 * (fast to make, accepted by the API server's Go TLS stack); PEM
 * everywhere, keys as PKCS#8 ("PRIVATE KEY"), as in a kubernetes.io/tls
 * Secret.
 *
 * IP addresses are compared and written in one canonical spelling
 * (canonicalIp): `fd00::1`, `FD00:0:0:0:0:0:0:1` and `fd00:0::1` are one
 * address. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the IPv4
 * address it maps, written in 4 bytes, as Go's crypto/x509 writes it: the
 * webhook's one client is the API server, whose Go TLS stack matches either
 * spelling against a 4-byte name (and accepts only 4- or 16-byte names: the
 * 15 bytes written before this library made the certificate unreadable to
 * it). A client that compares bytes (OpenSSL, Node's checkIP) matches the
 * name when asked for 10.0.0.1, not for ::ffff:10.0.0.1.
 */
// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API: it must load first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, KeyObject, X509Certificate, type webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { CertificateError } from './errors.ts';

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

const ORGANIZATION = 'llmroute';
/** Certificates start this much before "now": nodes' clocks drift. */
export const BACKDATE_MS = 5 * 60_000;

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { ...KEY_ALGORITHM, hash: 'SHA-256' } as const;
const webCrypto = globalThis.crypto;

const subjectName = (commonName: string): x509.JsonName => [{ O: [ORGANIZATION] }, { CN: [commonName] }];

async function newKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webCrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

/** PEM as Node writes it (with the final newline), the form the rotation compares and joins bundles in. */
const certificatePem = (cert: x509.X509Certificate): string => new X509Certificate(Buffer.from(cert.rawData)).toString();

const pkcs8Pem = (key: webcrypto.CryptoKey): string => KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();

/** The CA's signing key. The message never holds the key. */
function caSigningKey(keyPem: string): webcrypto.CryptoKey {
  try {
    return createPrivateKey(keyPem).toCryptoKey(KEY_ALGORITHM, false, ['sign']);
  } catch (err) {
    throw new CertificateError('the CA key is not a readable ECDSA P-256 private key', { cause: err });
  }
}

export async function createCertificateAuthority(o: { commonName: string; now: Date; validityMs: number }): Promise<KeyAndCert> {
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: subjectName(o.commonName),
      notBefore: new Date(o.now.getTime() - BACKDATE_MS),
      notAfter: new Date(o.now.getTime() + o.validityMs),
      signingAlgorithm: SIGNING_ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
        await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  return { certPem: certificatePem(cert), keyPem: pkcs8Pem(keys.privateKey) };
}

export async function createServingCertificate(o: {
  ca: KeyAndCert;
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  now: Date;
  validityMs: number;
}): Promise<KeyAndCert> {
  const ipAddresses = [...new Set((o.ipAddresses ?? []).map(canonicalIp))];
  const caCert = new x509.X509Certificate(o.ca.certPem);
  const signingKey = caSigningKey(o.ca.keyPem);
  const keys = await newKeyPair();
  // The CA's own key identifier, as it wrote it (a CA made by an earlier version derived it differently).
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: subjectName(o.dnsNames[0] ?? ipAddresses[0] ?? 'llmroute-webhook'),
      issuer: caCert.subjectName,
      notBefore: new Date(o.now.getTime() - BACKDATE_MS),
      // A certificate never outlives its CA.
      notAfter: new Date(Math.min(o.now.getTime() + o.validityMs, caCert.notAfter.getTime())),
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey: keys.publicKey,
      signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        ...(o.dnsNames.length || ipAddresses.length
          ? [
              new x509.SubjectAlternativeNameExtension([
                ...o.dnsNames.map((value) => ({ type: 'dns' as const, value })),
                ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
              ]),
            ]
          : []),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
        caKeyId ? new x509.AuthorityKeyIdentifierExtension(caKeyId) : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  return { certPem: certificatePem(cert), keyPem: pkcs8Pem(keys.privateKey) };
}

/**
 * An IP address in one spelling: IPv4 dotted; IPv6 as the URL standard
 * writes a host (lower-case hex, the longest run of zero groups as `::`),
 * except that an IPv4-mapped address is the IPv4 address it maps.
 */
export function canonicalIp(ip: string): string {
  const version = isIP(ip);
  if (version) {
    try {
      const host = new URL(version === 6 ? `http://[${ip}]/` : `http://${ip}/`).hostname;
      if (version === 4) return host;
      const v6 = host.slice(1, -1);
      // The URL standard writes ::ffff:10.0.0.1 as ::ffff:a00:1: two 16-bit groups.
      const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
      if (!mapped) return v6;
      const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
      return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
    } catch {
      // a zone index (fe80::1%eth0) has no place in a certificate
    }
  }
  throw new CertificateError(`not an IP address for a certificate: ${JSON.stringify(ip)}`);
}

/** The DNS names the API server dials a webhook Service by. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/** Every certificate in a PEM text, in order; unparsable blocks are skipped. */
export function splitPemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const out: X509Certificate[] = [];
  for (const b of blocks) {
    try {
      out.push(new X509Certificate(b));
    } catch {
      // not a certificate: ignored
    }
  }
  return out;
}

export const msLeft = (cert: X509Certificate, now: Date): number => cert.validToDate.getTime() - now.getTime();

/** Whether the key is the private half of the certificate's public key. */
export function keyMatches(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Whether the certificate names every DNS name and IP address (IP addresses in any spelling). */
export function coversNames(cert: X509Certificate, dnsNames: readonly string[], ipAddresses: readonly string[]): boolean {
  const dns = new Set<string>();
  const ips = new Set<string>();
  let names: readonly x509.GeneralName[];
  try {
    names = new x509.X509Certificate(cert.raw).getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  } catch {
    return false;
  }
  for (const n of names) {
    if (n.type === 'dns') dns.add(n.value);
    if (n.type === 'ip') {
      try {
        ips.add(canonicalIp(n.value));
      } catch {
        // an address range or garbage: names no address
      }
    }
  }
  const covered = (ip: string): boolean => {
    try {
      return ips.has(canonicalIp(ip));
    } catch {
      return false;
    }
  };
  return dnsNames.every((d) => dns.has(d)) && ipAddresses.every(covered);
}
