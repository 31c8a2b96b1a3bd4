/**
 * The webhook's CA and serving certificate: creation, and the checks that
 * say whether what is stored is still good. Keys are ECDSA P-256 (fast to
 * make, accepted by the API server's Go TLS stack); PEM everywhere, keys as
 * PKCS#8 ("PRIVATE KEY"), as in a kubernetes.io/tls Secret.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { buildCertificate, toPem } from './x509.ts';

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

const ORGANIZATION = 'llmroute';
/** Certificates start this much before "now": nodes' clocks drift. */
export const BACKDATE_MS = 5 * 60_000;

function newKeyPair() {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

export function createCertificateAuthority(o: { commonName: string; now: Date; validityMs: number }): KeyAndCert {
  const { publicKey, privateKey } = newKeyPair();
  const der = buildCertificate(
    {
      commonName: o.commonName,
      organization: ORGANIZATION,
      notBefore: new Date(o.now.getTime() - BACKDATE_MS),
      notAfter: new Date(o.now.getTime() + o.validityMs),
      publicKey,
      isCA: true,
    },
    { commonName: o.commonName, organization: ORGANIZATION, publicKey, privateKey },
  );
  return { certPem: toPem(der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export function createServingCertificate(o: {
  ca: KeyAndCert;
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  now: Date;
  validityMs: number;
}): KeyAndCert {
  const caCert = new X509Certificate(o.ca.certPem);
  const caKey = createPrivateKey(o.ca.keyPem);
  const { publicKey, privateKey } = newKeyPair();
  const caName = commonNameOf(caCert);
  // A certificate never outlives its CA.
  const notAfter = Math.min(o.now.getTime() + o.validityMs, Date.parse(caCert.validTo));
  const der = buildCertificate(
    {
      commonName: o.dnsNames[0] ?? o.ipAddresses?.[0] ?? 'llmroute-webhook',
      organization: ORGANIZATION,
      notBefore: new Date(o.now.getTime() - BACKDATE_MS),
      notAfter: new Date(notAfter),
      publicKey,
      isCA: false,
      dnsNames: o.dnsNames,
      ipAddresses: o.ipAddresses ?? [],
    },
    { commonName: caName, organization: ORGANIZATION, publicKey: createPublicKey(caKey), privateKey: caKey },
  );
  return { certPem: toPem(der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function commonNameOf(cert: X509Certificate): string {
  const m = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject);
  return m?.[1] ?? '';
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

export const msLeft = (cert: X509Certificate, now: Date): number => Date.parse(cert.validTo) - now.getTime();

/** Whether the key is the private half of the certificate's public key. */
export function keyMatches(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Whether the certificate names every DNS name and IP address. */
export function coversNames(cert: X509Certificate, dnsNames: readonly string[], ipAddresses: readonly string[]): boolean {
  const san = cert.subjectAltName ?? '';
  const entries = new Set(san.split(', ').map((s) => s.trim()));
  return dnsNames.every((d) => entries.has(`DNS:${d}`)) && ipAddresses.every((ip) => entries.has(`IP Address:${ip}`));
}
