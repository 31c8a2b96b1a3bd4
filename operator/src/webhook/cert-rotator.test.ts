import { describe, expect, it } from '@jest/globals';
import { createCertRotator } from './cert-rotator.ts';
import type { KeyAndCert } from './certs.ts';
import type { RotationPolicy } from './tls-rotation.ts';
import type { TlsMaterial } from './tls-rotation.ts';
import { WebhookTlsError } from './errors.ts';
import { materialFromSecret, secretData, type SecretObject, type WebhookConfigurationObject } from './tls-store.ts';

const MIN = 60_000;
const T0 = new Date('2030-01-01T00:00:00Z');
const policy: RotationPolicy = {
  dnsNames: ['llmroute-webhook.ns.svc'],
  ipAddresses: [],
  validityMs: 60 * MIN,
  renewBeforeMs: 20 * MIN,
  caValidityMs: 600 * MIN,
  caRenewBeforeMs: 100 * MIN,
  caCommonName: 'ca',
};

/** An in-memory API with resourceVersions, like the API server's optimistic concurrency. */
function fakeStore() {
  const state = {
    secret: { metadata: { name: 'llmroute-webhook-tls', namespace: 'ns', resourceVersion: '1' }, type: 'Opaque' } as SecretObject | undefined,
    config: {
      metadata: { name: 'llmroute', resourceVersion: '1' },
      webhooks: [{ name: 'inject.llmroute.dev', clientConfig: { service: { name: 'llmroute-webhook' } } }],
    } as WebhookConfigurationObject | undefined,
    secretWrites: 0,
    configWrites: 0,
    /** Set to make the next secret write lose a race. */
    raceOnce: false,
  };
  const bump = (rv?: string) => String(Number(rv ?? '0') + 1);
  const store = {
    names: { namespace: 'ns', secretName: 'llmroute-webhook-tls', webhookConfigName: 'llmroute' },
    async readSecret() {
      return structuredClone(state.secret);
    },
    async writeSecret(existing: SecretObject | undefined, m: TlsMaterial) {
      if (state.raceOnce || existing?.metadata.resourceVersion !== state.secret?.metadata.resourceVersion) {
        state.raceOnce = false;
        throw new WebhookTlsError('webhook_tls_conflict', 'conflict');
      }
      state.secretWrites++;
      state.secret = { ...(existing ?? { metadata: { name: 'llmroute-webhook-tls' } }), data: secretData(m) };
      state.secret.metadata = { ...state.secret.metadata, resourceVersion: bump(existing?.metadata.resourceVersion) };
    },
    async readWebhookConfiguration() {
      return structuredClone(state.config);
    },
    async writeWebhookConfiguration(c: WebhookConfigurationObject) {
      if (c.metadata.resourceVersion !== state.config?.metadata.resourceVersion) throw new WebhookTlsError('webhook_tls_conflict', 'conflict');
      state.configWrites++;
      state.config = { ...c, metadata: { ...c.metadata, resourceVersion: bump(c.metadata.resourceVersion) } };
    },
  };
  return { state, store };
}

describe('cert rotator', () => {
  it('fills the empty Secret, sets the caBundle, hands the certificate over, then rests', async () => {
    const { state, store } = fakeStore();
    const loaded: KeyAndCert[] = [];
    let now = T0;
    const r = createCertRotator({ store, policy, now: () => now, onCertificate: (c) => loaded.push(c) });
    const first = await r.reconcile();
    expect(first.wrote).toEqual(['no usable CA: creating a new CA and serving certificate']);
    expect(first.caBundleUpdated).toBe(true);
    const m = materialFromSecret(state.secret)!;
    expect(Buffer.from(state.config!.webhooks![0]!.clientConfig!.caBundle!, 'base64').toString()).toBe(m.caCertPem);
    expect(loaded).toEqual([{ certPem: m.certPem, keyPem: m.keyPem }]);

    now = new Date(T0.getTime() + 5 * MIN);
    const second = await r.reconcile();
    expect(second).toMatchObject({ wrote: [], caBundleUpdated: false, conflict: false });
    expect(state.secretWrites).toBe(1);
    expect(state.configWrites).toBe(1);
    expect(loaded).toHaveLength(1);

    now = new Date(T0.getTime() + 45 * MIN);
    expect((await r.reconcile()).wrote).toEqual(['the serving certificate is due for renewal']);
    expect(loaded).toHaveLength(2);
  });

  it('two replicas: the loser of a race adopts the winner’s certificate', async () => {
    const { state, store } = fakeStore();
    const a: KeyAndCert[] = [];
    const b: KeyAndCert[] = [];
    const ra = createCertRotator({ store, policy, now: () => T0, onCertificate: (c) => a.push(c) });
    const rb = createCertRotator({ store, policy, now: () => T0, onCertificate: (c) => b.push(c) });
    await ra.reconcile();
    state.raceOnce = true;
    expect((await rb.reconcile()).conflict).toBe(false); // nothing to write: it adopts A's
    expect(b).toEqual(a);

    // A real race: both read the empty Secret, B writes first.
    const { state: s2, store: st2 } = fakeStore();
    const rc = createCertRotator({ store: st2, policy, now: () => T0 });
    s2.raceOnce = true;
    expect((await rc.reconcile()).conflict).toBe(true);
    expect((await rc.reconcile()).wrote).toHaveLength(1);
  });

  it('warns and carries on without a webhook configuration', async () => {
    const { state, store } = fakeStore();
    state.config = undefined;
    const warnings: string[] = [];
    const r = createCertRotator({ store, policy, now: () => T0, log: { info() {}, error() {}, warn: (m) => warnings.push(m) } });
    expect((await r.reconcile()).certificate).toBeDefined();
    expect(warnings).toEqual(['webhook configuration not found: its caBundle cannot be set']);
  });
});
