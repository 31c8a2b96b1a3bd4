/**
 * Builds and signs X.509 v3 certificates (ECDSA P-256, SHA-256) with
 * Node's crypto for the keys and signatures and der.ts for the structure.
 * Only what a webhook's CA and serving certificate need.
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  bitString,
  boolean,
  explicit,
  implicit,
  namedBits,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** KeyUsage bit numbers (RFC 5280 4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

export interface CertificateFields {
  commonName: string;
  organization?: string;
  notBefore: Date;
  notAfter: Date;
  /** The subject's public key. */
  publicKey: KeyObject;
  isCA: boolean;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  /** Random when absent (16 bytes, positive). */
  serial?: Uint8Array;
}

export interface Issuer {
  commonName: string;
  organization?: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

function name(commonName: string, organization?: string): Buffer {
  const rdns = [];
  if (organization) rdns.push(set(sequence(oid(OID.organization), utf8String(organization))));
  rdns.push(set(sequence(oid(OID.commonName), utf8String(commonName))));
  return sequence(...rdns);
}

/** Key identifier: the first 20 bytes of SHA-256 over the SubjectPublicKeyInfo (RFC 7093 method 4 style). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest().subarray(0, 20);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

function ipBytes(ip: string): Buffer {
  const v = isIP(ip);
  if (v === 4) return Buffer.from(ip.split('.').map(Number));
  if (v === 6) {
    const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return Buffer.from(groups.map((g) => g.padStart(4, '0')).join(''), 'hex');
  }
  throw new Error(`not an IP address: ${ip}`);
}

/** A signed certificate, DER. The issuer signs; for a self-signed CA pass the subject's own keys as issuer. */
export function buildCertificate(subject: CertificateFields, issuer: Issuer): Buffer {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const serial = subject.serial ?? (() => {
    const b = randomBytes(16);
    b[0] = (b[0]! & 0x7f) | 0x40;
    return b;
  })();
  const extensions: Buffer[] = [];
  if (subject.isCA) {
    extensions.push(extension(OID.basicConstraints, true, sequence(boolean(true), smallInteger(0))));
    extensions.push(extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])));
  } else {
    extensions.push(extension(OID.basicConstraints, true, sequence()));
    extensions.push(extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])));
    extensions.push(extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))));
  }
  const sans = [
    ...(subject.dnsNames ?? []).map((d) => implicit(2, Buffer.from(d, 'ascii'))),
    ...(subject.ipAddresses ?? []).map((ip) => implicit(7, ipBytes(ip))),
  ];
  if (sans.length) extensions.push(extension(OID.subjectAltName, false, sequence(...sans)));
  extensions.push(extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(subject.publicKey))));
  extensions.push(extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, keyIdentifier(issuer.publicKey)))));

  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serial),
    algorithm,
    name(issuer.commonName, issuer.organization),
    sequence(time(subject.notBefore), time(subject.notAfter)),
    name(subject.commonName, subject.organization),
    subject.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, { key: issuer.privateKey, dsaEncoding: 'der' });
  return sequence(tbs, algorithm, bitString(signature));
}

export function toPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

