/**
 * What to do with the webhook's stored TLS material: keep it, or write a
 * new version, and why. Deterministic apart from the new keys it makes
 * (asynchronous only because WebCrypto makes and signs them).
 *
 * Material: `ca.crt` (one or more CA certificates, the current one first),
 * `ca.key` (the current CA's key), `tls.crt` + `tls.key` (the serving
 * certificate). The API server trusts what the MutatingWebhookConfiguration's
 * caBundle holds, which the manager sets to `ca.crt`.
 *
 * Rotation never leaves a serving certificate the API server does not trust:
 *   - the serving certificate is renewed when less than renewBefore of it is
 *     left (or it lacks a name, or its key does not match);
 *   - the CA is renewed when less than caRenewBefore is left: the new CA is
 *     put FIRST in `ca.crt`, the old one stays (until it expires) and keeps
 *     vouching for the serving certificate in use;
 *   - a serving certificate signed by a new CA is issued only once the
 *     webhook's caBundle holds that CA (the next round after the caBundle
 *     was patched), unless the one in use is unusable anyway.
 */
import { X509Certificate } from 'node:crypto';
import {
  coversNames,
  createCertificateAuthority,
  createServingCertificate,
  keyMatches,
  msLeft,
  splitPemCertificates,
} from './certs.ts';
import { RotationPolicyError } from './errors.ts';

export interface TlsMaterial {
  caCertPem: string;
  caKeyPem: string;
  certPem: string;
  keyPem: string;
}

export interface RotationPolicy {
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  /** Serving certificate lifetime; default one year. */
  validityMs: number;
  /** Renew the serving certificate when less than this is left; default 30 days. */
  renewBeforeMs: number;
  /** CA lifetime; default ten years. */
  caValidityMs: number;
  /** Renew the CA when less than this is left; default one year. */
  caRenewBeforeMs: number;
  caCommonName: string;
}

const DAY = 24 * 3600_000;
export const DEFAULT_ROTATION = {
  validityMs: 365 * DAY,
  renewBeforeMs: 30 * DAY,
  caValidityMs: 3650 * DAY,
  caRenewBeforeMs: 365 * DAY,
  caCommonName: 'llmroute-webhook-ca',
} as const;

export type RotationPlan = { action: 'keep' } | { action: 'write'; reasons: string[]; material: TlsMaterial };

export function checkPolicy(p: RotationPolicy): void {
  if (!(p.renewBeforeMs > 0 && p.renewBeforeMs < p.validityMs)) {
    throw new RotationPolicyError('the serving certificate must be renewed before it expires: 0 < renewBefore < validity');
  }
  if (!(p.caRenewBeforeMs > 0 && p.caRenewBeforeMs < p.caValidityMs)) {
    throw new RotationPolicyError('the CA must be renewed before it expires: 0 < caRenewBefore < caValidity');
  }
  if (p.dnsNames.length + p.ipAddresses.length === 0) throw new RotationPolicyError('the serving certificate needs at least one name');
}

/**
 * @param stored what the Secret holds now (any field may be missing or garbage)
 * @param trustedCaPem what the webhook configuration's caBundle holds now (decoded), '' if none
 */
export async function planRotation(
  stored: Partial<TlsMaterial> | undefined,
  trustedCaPem: string,
  now: Date,
  policy: RotationPolicy,
): Promise<RotationPlan> {
  const reasons: string[] = [];
  const cas = splitPemCertificates(stored?.caCertPem ?? '').filter((c) => msLeft(c, now) > 0);
  let current: X509Certificate | undefined = cas[0];
  let caKeyPem = stored?.caKeyPem ?? '';
  if (!current || !current.ca || !keyMatches(current, caKeyPem)) {
    const fresh = await freshMaterial(now, policy);
    return { action: 'write', reasons: ['no usable CA: creating a new CA and serving certificate'], material: fresh };
  }

  let bundle = cas;
  if (msLeft(current, now) < policy.caRenewBeforeMs) {
    const ca = await createCertificateAuthority({ commonName: policy.caCommonName, now, validityMs: policy.caValidityMs });
    current = new X509Certificate(ca.certPem);
    caKeyPem = ca.keyPem;
    bundle = [current, ...cas];
    reasons.push('the CA expires soon: a new CA joins the bundle');
  }

  let certPem = stored?.certPem ?? '';
  let keyPem = stored?.keyPem ?? '';
  const serving = splitPemCertificates(certPem)[0];
  const usable =
    !!serving &&
    msLeft(serving, now) > 0 &&
    keyMatches(serving, keyPem) &&
    coversNames(serving, policy.dnsNames, policy.ipAddresses) &&
    bundle.some((ca) => serving.verify(ca.publicKey));
  const good = usable && msLeft(serving, now) >= policy.renewBeforeMs && serving.verify(current.publicKey);
  if (!good) {
    const trusted = splitPemCertificates(trustedCaPem).some((c) => c.fingerprint256 === current.fingerprint256);
    if (trusted || !usable) {
      const issued = await createServingCertificate({
        ca: { certPem: current.toString(), keyPem: caKeyPem },
        dnsNames: policy.dnsNames,
        ipAddresses: policy.ipAddresses,
        now,
        validityMs: policy.validityMs,
      });
      certPem = issued.certPem;
      keyPem = issued.keyPem;
      reasons.push(usable ? 'the serving certificate is due for renewal' : 'no usable serving certificate: issuing one');
    }
  }

  const caCertPem = bundle.map((c) => c.toString()).join('');
  const changed =
    caCertPem !== (stored?.caCertPem ?? '') || caKeyPem !== stored?.caKeyPem || certPem !== stored?.certPem || keyPem !== stored?.keyPem;
  if (!changed) return { action: 'keep' };
  if (!reasons.length) reasons.push('expired CA certificates left the bundle');
  return { action: 'write', reasons, material: { caCertPem, caKeyPem, certPem, keyPem } };
}

async function freshMaterial(now: Date, policy: RotationPolicy): Promise<TlsMaterial> {
  const ca = await createCertificateAuthority({ commonName: policy.caCommonName, now, validityMs: policy.caValidityMs });
  const serving = await createServingCertificate({ ca, dnsNames: policy.dnsNames, ipAddresses: policy.ipAddresses, now, validityMs: policy.validityMs });
  return { caCertPem: ca.certPem, caKeyPem: ca.keyPem, certPem: serving.certPem, keyPem: serving.keyPem };
}
