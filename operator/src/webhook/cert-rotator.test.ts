import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { createCertRotator } from './cert-rotator.ts';
import { BACKDATE_MS, type KeyAndCert } from './certs.ts';
import { realClock, type Clock } from '../../../common/clock.ts';
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

/**
 * The real clock (so jest's fake timers), recording the delay of each timer
 * the rotator sets: a round has ended once it has set the next one.
 */
function recordingClock() {
  const delays: number[] = [];
  let changed = (): void => {};
  const clock: Clock = {
    ...realClock,
    setTimeout(fn, ms) {
      delays.push(ms);
      changed();
      return realClock.setTimeout(fn, ms);
    },
  };
  const timersSet = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (delays.length >= n ? resolve() : void (changed = check));
      check();
    });
  return { clock, delays, timersSet };
}

// The rotator's default clock reads Date.now and the global timers: these are jest's, starting at T0.
beforeEach(() => {
  jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('cert rotator', () => {
  it('fills the empty Secret, sets the caBundle, hands the certificate over, then rests', async () => {
    const { state, store } = fakeStore();
    const loaded: KeyAndCert[] = [];
    const r = createCertRotator({ store, policy, onCertificate: (c) => loaded.push(c) });
    const first = await r.reconcile();
    expect(first.wrote).toEqual(['no usable CA: creating a new CA and serving certificate']);
    expect(first.caBundleUpdated).toBe(true);
    const m = materialFromSecret(state.secret)!;
    expect(Buffer.from(state.config!.webhooks![0]!.clientConfig!.caBundle!, 'base64').toString()).toBe(m.caCertPem);
    expect(loaded).toEqual([{ certPem: m.certPem, keyPem: m.keyPem }]);

    jest.setSystemTime(T0.getTime() + 5 * MIN);
    const second = await r.reconcile();
    expect(second).toMatchObject({ wrote: [], caBundleUpdated: false, conflict: false });
    expect(state.secretWrites).toBe(1);
    expect(state.configWrites).toBe(1);
    expect(loaded).toHaveLength(1);

    jest.setSystemTime(T0.getTime() + 45 * MIN);
    expect((await r.reconcile()).wrote).toEqual(['the serving certificate is due for renewal']);
    expect(loaded).toHaveLength(2);
  });

  it('two replicas: the loser of a race adopts the winner’s certificate', async () => {
    const { state, store } = fakeStore();
    const a: KeyAndCert[] = [];
    const b: KeyAndCert[] = [];
    const ra = createCertRotator({ store, policy, onCertificate: (c) => a.push(c) });
    const rb = createCertRotator({ store, policy, onCertificate: (c) => b.push(c) });
    await ra.reconcile();
    state.raceOnce = true;
    expect((await rb.reconcile()).conflict).toBe(false); // nothing to write: it adopts A's
    expect(b).toEqual(a);

    // A real race: both read the empty Secret, B writes first.
    const { state: s2, store: st2 } = fakeStore();
    const rc = createCertRotator({ store: st2, policy });
    s2.raceOnce = true;
    expect((await rc.reconcile()).conflict).toBe(true);
    expect((await rc.reconcile()).wrote).toHaveLength(1);
  });

  it('warns and carries on without a webhook configuration', async () => {
    const { state, store } = fakeStore();
    state.config = undefined;
    const warnings: string[] = [];
    const r = createCertRotator({ store, policy, log: { info() {}, error() {}, warn: (m) => warnings.push(m) } });
    expect((await r.reconcile()).certificate).toBeDefined();
    expect(warnings).toEqual(['webhook configuration not found: its caBundle cannot be set']);
  });
});

describe('cert rotator rounds (start/stop)', () => {
  it('a round each interval, a conflict retried after 500 ms, a failing round logged once, none after stop()', async () => {
    const { state, store } = fakeStore();
    const rounds: number[] = [];
    const readSecret = store.readSecret;
    let failing = false;
    store.readSecret = async () => {
      rounds.push(Date.now() - T0.getTime());
      if (failing) throw new WebhookTlsError('webhook_tls_api', 'GET secret: HTTP 503');
      return readSecret();
    };
    const errors: string[] = [];
    const loaded: KeyAndCert[] = [];
    const { clock, delays, timersSet } = recordingClock();
    const r = createCertRotator({
      store,
      policy,
      intervalMs: 10 * MIN,
      clock,
      onCertificate: (c) => loaded.push(c),
      log: { info() {}, warn() {}, error: (m) => errors.push(m) },
    });

    state.raceOnce = true; // the first write loses a race
    r.start();
    await jest.advanceTimersByTimeAsync(10 * MIN - 1);
    expect(rounds).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(rounds).toEqual([10 * MIN]);
    await timersSet(2);
    expect(delays).toEqual([10 * MIN, 500]);
    expect(loaded).toHaveLength(0);

    await jest.advanceTimersByTimeAsync(500);
    expect(rounds).toEqual([10 * MIN, 10 * MIN + 500]);
    await timersSet(3);
    expect(loaded).toHaveLength(1);
    // The certificate is valid from the clock's now (less the backdating, to the second), not the wall clock's.
    const issuedAt = T0.getTime() + 10 * MIN + 500;
    expect(new X509Certificate(loaded[0]!.certPem).validFromDate.getTime()).toBe(Math.floor((issuedAt - BACKDATE_MS) / 1000) * 1000);

    failing = true;
    for (const n of [4, 5]) {
      await jest.advanceTimersByTimeAsync(10 * MIN);
      await timersSet(n);
    }
    expect(rounds).toHaveLength(4);
    expect(delays).toEqual([10 * MIN, 500, 10 * MIN, 10 * MIN, 10 * MIN]);
    expect(errors).toEqual(['webhook certificate round failed']);

    r.stop();
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(60 * MIN);
    expect(rounds).toHaveLength(4);
  });
});
