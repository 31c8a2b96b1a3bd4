import { beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { hasCode } from '../../../common/errors.ts';
import { splitPemCertificates } from './certs.ts';
import { checkPolicy, planRotation, type RotationPolicy, type TlsMaterial } from './tls-rotation.ts';

const MIN = 60_000;
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * MIN);
const policy: RotationPolicy = {
  dnsNames: ['llmroute-webhook.llmroute-system.svc'],
  ipAddresses: ['127.0.0.1'],
  validityMs: 60 * MIN,
  renewBeforeMs: 20 * MIN,
  caValidityMs: 600 * MIN,
  caRenewBeforeMs: 100 * MIN,
  caCommonName: 'llmroute-webhook-ca',
};

function written(plan: Awaited<ReturnType<typeof planRotation>>): TlsMaterial {
  if (plan.action !== 'write') throw new Error('expected a write');
  return plan.material;
}
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('planRotation', () => {
  let first: TlsMaterial;
  beforeAll(async () => {
    first = written(await planRotation(undefined, '', T0, policy));
  });

  it('creates a CA and a serving certificate when nothing is stored, or garbage is', async () => {
    expect(splitPemCertificates(first.caCertPem)).toHaveLength(1);
    expect(new X509Certificate(first.certPem).verify(new X509Certificate(first.caCertPem).publicKey)).toBe(true);
    const garbage = await planRotation({ caCertPem: 'x', caKeyPem: 'y', certPem: '', keyPem: '' }, '', T0, policy);
    expect(garbage).toMatchObject({ action: 'write', reasons: ['no usable CA: creating a new CA and serving certificate'] });
  });

  it('keeps good material', async () => {
    expect(await planRotation(first, first.caCertPem, at(10), policy)).toEqual({ action: 'keep' });
    // Still well within validity even when the caBundle is not set yet.
    expect(await planRotation(first, '', at(10), policy)).toEqual({ action: 'keep' });
  });

  it('renews the serving certificate when less than renewBefore is left, keeping the CA', async () => {
    const plan = await planRotation(first, first.caCertPem, at(45), policy);
    const m = written(plan);
    expect(plan).toMatchObject({ reasons: ['the serving certificate is due for renewal'] });
    expect(m.caCertPem).toBe(first.caCertPem);
    expect(m.certPem).not.toBe(first.certPem);
    expect(Date.parse(new X509Certificate(m.certPem).validTo)).toBe(at(45 + 60).getTime());
  });

  it('keeps a certificate for IPv6 names (they are compared in one spelling)', async () => {
    const v6 = { ...policy, ipAddresses: ['fd00::1', '::ffff:10.0.0.1', '127.0.0.1'] };
    const m = written(await planRotation(undefined, '', T0, v6));
    expect(await planRotation(m, m.caCertPem, at(10), v6)).toEqual({ action: 'keep' });
    expect(await planRotation(m, m.caCertPem, at(10), { ...v6, ipAddresses: ['FD00:0:0:0:0:0:0:1'] })).toEqual({ action: 'keep' });
  });

  it('re-issues at once when the serving certificate lacks a name or its key', async () => {
    const other = { ...policy, dnsNames: ['new-name.svc'] };
    expect(await planRotation(first, first.caCertPem, at(1), other)).toMatchObject({ action: 'write', reasons: ['no usable serving certificate: issuing one'] });
    expect(await planRotation({ ...first, keyPem: first.caKeyPem }, '', at(1), policy)).toMatchObject({ action: 'write' });
  });

  it('rotates the CA in two steps: first the bundle, then the serving certificate once the caBundle trusts the new CA', async () => {
    const late = at(520); // < 100 min of the CA left
    // The serving certificate issued at 500 is fine on its own.
    const before = written(await planRotation(first, first.caCertPem, at(500), policy));
    const step1 = await planRotation(before, first.caCertPem, late, policy);
    const m1 = written(step1);
    expect(step1).toMatchObject({ reasons: ['the CA expires soon: a new CA joins the bundle'] });
    const bundle = splitPemCertificates(m1.caCertPem);
    expect(bundle.map((c) => c.fingerprint256)).toEqual([bundle[0]!.fingerprint256, fingerprint(first.caCertPem)]);
    expect(m1.certPem).toBe(before.certPem); // still the old CA's: the API server trusts only that one yet

    // The caBundle is not patched yet: nothing more to do.
    expect(await planRotation(m1, first.caCertPem, late, policy)).toEqual({ action: 'keep' });
    // Patched: the serving certificate moves to the new CA.
    const m2 = written(await planRotation(m1, m1.caCertPem, late, policy));
    expect(new X509Certificate(m2.certPem).verify(bundle[0]!.publicKey)).toBe(true);
    expect(m2.caCertPem).toBe(m1.caCertPem);
    expect(await planRotation(m2, m2.caCertPem, late, policy)).toEqual({ action: 'keep' });
    // Once the old CA has expired it leaves the bundle.
    const after = await planRotation(m2, m2.caCertPem, at(601), policy);
    expect(splitPemCertificates(written(after).caCertPem)).toHaveLength(1);
  });

  it('refuses a policy that could never be satisfied', () => {
    expect(() => checkPolicy({ ...policy, renewBeforeMs: policy.validityMs })).toThrow(/renewBefore/);
    expect(() => checkPolicy({ ...policy, caRenewBeforeMs: 0 })).toThrow(/caRenewBefore/);
    expect(() => checkPolicy({ ...policy, dnsNames: [], ipAddresses: [] })).toThrow(/name/);
    let thrown: unknown;
    try {
      checkPolicy({ ...policy, caRenewBeforeMs: 0 });
    } catch (err) {
      thrown = err;
    }
    expect(hasCode(thrown, 'webhook_rotation_policy')).toBe(true);
    expect(thrown).toMatchObject({ name: 'RotationPolicyError' });
  });
});
