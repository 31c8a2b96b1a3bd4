// The operator against a real kube-apiserver, running in this process as the
// unprivileged user llmroute-operator-test, which the test binds to exactly
// the rules of config/rbac/*.yaml: a verb missing there fails these tests.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterSteps, conditionOf, startTestOperator, type TestOperator } from '../../operator/src/testing/e2e-helpers.ts';
import { grantOperatorRbac, type OperatorGrant } from '../../operator/src/testing/rbac.ts';
import { adminKubeConfig, createNamespace, deleteNamespace, testUserName, uniqueName, userKubeConfig, waitFor } from './harness/kube.ts';

const KEY_A = 'sk-e2e-AAAA-0123456789abcdef';
const KEY_A2 = 'sk-e2e-AAAA-rotated-9876543210';
const KEY_B = 'sk-e2e-BBBB-fedcba9876543210';
const ALL_KEYS = [KEY_A, KEY_A2, KEY_B];

const target = (name: string, secret: string, key = 'apiKey', extra: Record<string, unknown> = {}) => ({
  name,
  provider: 'openai',
  model: `model-${name}`,
  apiKeySecretRef: { name: secret, key },
  ...extra,
});

const routeNames = (cfg: { config: { routes: Array<{ name: string }> } } | undefined) => cfg?.config.routes.map((r) => r.name) ?? [];
/** Latencies below are measured with a 10 ms poll, not the default 200 ms. */
const timings: Record<string, number> = {};
const FAST = { intervalMs: 10 };
jest.setTimeout(60_000);

describe('llmroute operator (namespaced, as the unprivileged test user)', () => {
  const admin = adminKubeConfig();
  const steps = new ClusterSteps(admin);
  let ns: string;
  let ns2: string;
  let leaseNs: string;
  let grant: OperatorGrant;
  let op: TestOperator;

  beforeAll(async () => {
    ns = await createNamespace(uniqueName('op'));
    ns2 = await createNamespace(uniqueName('op2'));
    leaseNs = uniqueName('op-lease');
    grant = await grantOperatorRbac(admin, userKubeConfig(), { user: testUserName(), suffix: uniqueName('ns'), leaseNamespace: leaseNs, scope: [ns, ns2] });
    // Short server-side watch timeouts: watches end and reopen every few seconds,
    // so the RBAC outage test below sees them fail and come back.
    op = await startTestOperator(userKubeConfig(), { namespaces: [ns, ns2], leaseNamespace: leaseNs, watchTimeoutSeconds: 2 });
    await waitFor(() => op.isLeader(), { description: 'the operator to lead' });
  });

  afterAll(async () => {
    await op?.stop();
    await grant?.revoke();
    steps.close();
    await deleteNamespace(ns);
    await deleteNamespace(ns2);
    await deleteNamespace(leaseNs);
    // eslint-disable-next-line no-console
    console.log(`operator e2e timings (ms): ${JSON.stringify(timings)}`);
  });

  it('renders the ConfigMap and the Secret, and reports Ready', async () => {
    await steps.putSecret(ns, 'key-a', { apiKey: KEY_A, unrelated: 'not-referenced' });
    const t0 = performance.now();
    await steps.applyRoute(ns, 'chat', { aliases: ['gpt-4o'], targets: [target('primary', 'key-a'), target('backup', 'key-a', 'apiKey', { priority: 1 })] });
    const cm = await waitFor(async () => (routeNames(await steps.renderedConfigMap(ns)).includes('chat') ? steps.renderedConfigMap(ns) : undefined), {
      description: 'config.yaml with route chat',
      ...FAST,
    });
    timings.createToConfigMap = Math.round(performance.now() - t0);
    expect(cm!.labels['app.kubernetes.io/managed-by']).toBe('llmroute');
    expect(cm!.owners.map((o) => o.name)).toEqual(['chat']);
    expect(cm!.config.routes[0]).toMatchObject({
      name: 'chat',
      aliases: ['gpt-4o'],
      targets: [
        { name: 'primary', apiKey: { file: `${ns}.chat_primary` } },
        { name: 'backup', priority: 1, apiKey: { file: `${ns}.chat_backup` } },
      ],
    });
    const creds = await steps.renderedCredentials(ns);
    expect(creds!.labels['app.kubernetes.io/managed-by']).toBe('llmroute');
    expect(creds!.values).toEqual({ [`${ns}.chat_backup`]: KEY_A, [`${ns}.chat_primary`]: KEY_A });

    const route = await waitFor(async () => {
      const r = await steps.getRoute(ns, 'chat');
      return conditionOf(r, 'Ready')?.status === 'True' ? r : undefined;
    });
    expect(route.status).toMatchObject({ observedGeneration: 1, targets: 2, primary: 'openai/model-primary' });
    expect(route.status!.conditions!.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Accepted', 'True', 'Accepted'],
      ['ResolvedRefs', 'True', 'Resolved'],
      ['Ready', 'True', 'Rendered'],
    ]);
    const events = await waitFor(async () => {
      const e = await steps.routeEvents(ns, 'chat');
      return e.length ? e : undefined;
    });
    expect(events).toEqual([expect.objectContaining({ type: 'Normal', reason: 'Rendered', message: 'rendered generation 1 into ConfigMap llmroute-config', reportingInstance: op.identity })]);
  });

  it('follows an LLMRoute change (a new alias, a new target)', async () => {
    const t0 = performance.now();
    await steps.applyRoute(ns, 'chat', {
      aliases: ['gpt-4o', 'gpt-4.1'],
      targets: [target('primary', 'key-a'), target('backup', 'key-a', 'apiKey', { priority: 1 }), target('third', 'key-a', 'apiKey', { priority: 2 })],
    });
    const cm = await waitFor(async () => {
      const c = await steps.renderedConfigMap(ns);
      return c?.config.routes[0]?.aliases?.includes('gpt-4.1') ? c : undefined;
    }, FAST);
    timings.updateToConfigMap = Math.round(performance.now() - t0);
    expect(cm!.config.routes[0]!.targets.map((t) => t.name)).toEqual(['primary', 'backup', 'third']);
    expect(Object.keys((await steps.renderedCredentials(ns))!.values).sort()).toEqual([`${ns}.chat_backup`, `${ns}.chat_primary`, `${ns}.chat_third`]);
    const route = await waitFor(async () => {
      const r = await steps.getRoute(ns, 'chat');
      return r.status?.observedGeneration === 2 ? r : undefined;
    });
    expect(route.status!.targets).toBe(3);
    expect(conditionOf(route, 'Ready')).toMatchObject({ status: 'True', observedGeneration: 2 } as object);
  });

  it('leaves a route whose Secret is missing out, keeps the others, and picks it up when the Secret appears', async () => {
    await steps.applyRoute(ns, 'waiting', { targets: [target('b', 'key-b')] });
    const waiting = await waitFor(async () => {
      const r = await steps.getRoute(ns, 'waiting');
      return conditionOf(r, 'ResolvedRefs')?.status === 'False' ? r : undefined;
    });
    expect(conditionOf(waiting, 'ResolvedRefs')).toMatchObject({
      reason: 'SecretNotFound',
      message: expect.stringMatching(new RegExp(`^target "b": Secret "key-b" not found among the Secrets labelled llmroute\\.dev/credentials=true .* kubectl -n ${ns} label secret key-b llmroute\\.dev/credentials=true$`)),
    });
    expect(conditionOf(waiting, 'Ready')).toMatchObject({ status: 'False', reason: 'NotRendered' });
    expect(routeNames(await steps.renderedConfigMap(ns))).toEqual(['chat']);
    await waitFor(async () => (await steps.routeEvents(ns, 'waiting')).some((e) => e.type === 'Warning' && e.reason === 'SecretNotFound'), {
      description: 'a SecretNotFound event',
    });

    const t0 = performance.now();
    await steps.putSecret(ns, 'key-b', { apiKey: KEY_B });
    const resolved = await waitFor(async () => {
      const r = await steps.getRoute(ns, 'waiting');
      return conditionOf(r, 'ResolvedRefs')?.status === 'True' ? r : undefined;
    }, FAST);
    timings.secretAppearsToResolved = Math.round(performance.now() - t0);
    expect(conditionOf(resolved, 'ResolvedRefs')!.reason).toBe('Resolved');
    expect(conditionOf(resolved, 'Ready')!.status).toBe('True');
    expect(routeNames(await steps.renderedConfigMap(ns))).toEqual(['chat', 'waiting']);
    expect((await steps.renderedCredentials(ns))!.values[`${ns}.waiting_b`]).toBe(KEY_B);
  });

  it('reports KeyNotFound when a key goes missing, and SecretNotFound when the Secret goes', async () => {
    await steps.putSecret(ns, 'key-b', { other: KEY_B });
    const r1 = await waitFor(async () => {
      const r = await steps.getRoute(ns, 'waiting');
      return conditionOf(r, 'ResolvedRefs')?.reason === 'KeyNotFound' ? r : undefined;
    });
    expect(conditionOf(r1, 'ResolvedRefs')!.message).toBe('target "b": key "apiKey" not found in Secret "key-b"');
    await waitFor(async () => !routeNames(await steps.renderedConfigMap(ns)).includes('waiting'), { description: 'waiting to leave config.yaml' });
    expect(routeNames(await steps.renderedConfigMap(ns))).toEqual(['chat']);
    // The key it no longer uses leaves the credentials too.
    await waitFor(async () => !((await steps.renderedCredentials(ns))!.values[`${ns}.waiting_b`] !== undefined), { description: 'the key to leave the Secret' });

    await steps.deleteSecret(ns, 'key-b');
    await waitFor(async () => conditionOf(await steps.getRoute(ns, 'waiting'), 'ResolvedRefs')?.reason === 'SecretNotFound', { description: 'SecretNotFound' });
    // The status write and the Event are two writes: on a busy machine the status can be read first.
    const want = ['KeyNotFound', 'Rendered', 'SecretNotFound', 'SecretNotFound'];
    const reasons = async () => (await steps.routeEvents(ns, 'waiting')).map((e) => e.reason).sort();
    await waitFor(async () => JSON.stringify(await reasons()) === JSON.stringify(want), { description: 'the SecretNotFound event', timeoutMs: 10_000 }).catch(() => undefined);
    expect(await reasons()).toEqual(want);
    // The healthy route never left.
    expect(conditionOf(await steps.getRoute(ns, 'chat'), 'Ready')!.status).toBe('True');
  });

  it('propagates a key rotation without any LLMRoute change', async () => {
    const before = await steps.getRoute(ns, 'chat');
    const t0 = performance.now();
    await steps.putSecret(ns, 'key-a', { apiKey: KEY_A2, unrelated: 'not-referenced' });
    await waitFor(async () => (await steps.renderedCredentials(ns))!.values[`${ns}.chat_primary`] === KEY_A2, { description: 'the rotated key', ...FAST });
    timings.keyRotationToSecret = Math.round(performance.now() - t0);
    const after = await steps.getRoute(ns, 'chat');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(Object.values((await steps.renderedCredentials(ns))!.values)).not.toContain('not-referenced');
  });

  it('refuses a route whose alias another, older route holds', async () => {
    await steps.applyRoute(ns, 'copycat', { aliases: ['gpt-4o'], targets: [target('x', 'key-a')] });
    const r = await waitFor(async () => {
      const x = await steps.getRoute(ns, 'copycat');
      return conditionOf(x, 'Accepted')?.status === 'False' ? x : undefined;
    });
    expect(conditionOf(r, 'Accepted')).toMatchObject({ reason: 'AliasConflict', message: 'model name "gpt-4o" is already used by LLMRoute "chat", which is older' });
    expect(routeNames(await steps.renderedConfigMap(ns))).not.toContain('copycat');
    await waitFor(async () => (await steps.routeEvents(ns, 'copycat')).some((e) => e.reason === 'AliasConflict'), { description: 'an AliasConflict event' });
    await steps.deleteRoute(ns, 'copycat');
  });

  it('ignores Secrets that no LLMRoute refers to', async () => {
    // Settle: the echoes of earlier writes (status updates come back as route events) die down.
    let last = -1;
    const before = await waitFor(
      async () => {
        const n = await op.metrics.value('llmroute_operator_reconcile_total');
        const stable = n === last;
        last = n;
        return stable ? n : undefined;
      },
      { intervalMs: 500, description: 'no more reconciles' },
    );
    await steps.putSecret(ns, 'unrelated', { apiKey: 'whatever' });
    await steps.putSecret(ns, 'unrelated', { apiKey: 'changed' });
    await new Promise((r) => setTimeout(r, 500));
    expect(await op.metrics.value('llmroute_operator_reconcile_total')).toBe(before);
  });

  it('writes the credentials Secret again when someone deletes it', async () => {
    await steps.deleteSecret(ns, 'llmroute-credentials');
    const t0 = performance.now();
    const creds = await waitFor(() => steps.renderedCredentials(ns), { description: 'the credentials Secret to come back', ...FAST });
    timings.credentialsDeletedToRepaired = Math.round(performance.now() - t0);
    expect(creds!.values[`${ns}.chat_primary`]).toBe(KEY_A2);
  });

  it('deletes the ConfigMap and the Secret with the last LLMRoute of a namespace', async () => {
    await steps.putSecret(ns2, 'k', { apiKey: KEY_A });
    await steps.applyRoute(ns2, 'one', { targets: [target('a', 'k')] });
    await steps.applyRoute(ns2, 'two', { targets: [target('a', 'k')] });
    await waitFor(async () => routeNames(await steps.renderedConfigMap(ns2)).length === 2, { description: 'two routes in ns2' });
    expect((await steps.renderedConfigMap(ns2))!.owners.map((o) => o.name)).toEqual(['one', 'two']);
    await steps.deleteRoute(ns2, 'one');
    await waitFor(async () => routeNames(await steps.renderedConfigMap(ns2)).join() === 'two', { description: 'one route left' });
    expect((await steps.renderedConfigMap(ns2))!.owners.map((o) => o.name)).toEqual(['two']);
    const t0 = performance.now();
    await steps.deleteRoute(ns2, 'two');
    await waitFor(async () => (await steps.renderedConfigMap(ns2)) === undefined && (await steps.renderedCredentials(ns2)) === undefined, {
      description: 'both rendered objects to be deleted',
      ...FAST,
    });
    timings.lastRouteDeletedToCleanup = Math.round(performance.now() - t0);
  });

  it('serves health, readiness and metrics', async () => {
    const base = `http://127.0.0.1:${op.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^llmroute_operator_leader 1$/m);
    expect(text).toMatch(/^llmroute_operator_reconcile_total\{result="success"\} [1-9]\d*$/m);
    expect(text).toMatch(/^llmroute_operator_reconcile_duration_seconds_count\{result="success"\} [1-9]\d*$/m);
    expect(text).toMatch(/^llmroute_operator_queue_depth \d+$/m);
    for (const key of ALL_KEYS) expect(text).not.toContain(key);
  });

  it('never lets a key into a log line, a status, an event or the ConfigMap', async () => {
    const visible: string[] = [...op.logs];
    for (const n of [ns, ns2]) {
      const cm = await steps.renderedConfigMap(n);
      if (cm) visible.push(cm.text);
      const events = await steps.api.request<any>('GET', `/api/v1/namespaces/${n}/events`);
      visible.push(JSON.stringify(events.items));
      const routes = await steps.api.request<any>('GET', `/apis/llmroute.dev/v1alpha1/namespaces/${n}/llmroutes`);
      visible.push(JSON.stringify(routes.items.map((r: { status?: unknown }) => r.status)));
    }
    const all = visible.join('\n');
    expect(op.logs.length).toBeGreaterThan(5);
    for (const key of ALL_KEYS) {
      expect(all).not.toContain(key);
      expect(all).not.toContain(Buffer.from(key).toString('base64'));
    }
    // And nothing was refused: the RBAC rules were enough for every write.
    expect(op.logs.filter((l) => /HTTP 403|forbidden/i.test(l))).toEqual([]);
  });
  it('survives an API outage (its RBAC withdrawn): watches and writes fail, then recover on their own', async () => {
    const restore = await grant.suspend(ns);
    const failedFrom = op.logs.length;
    try {
      await waitFor(() => op.logs.slice(failedFrom).some((l) => l.includes('list/watch failed') && l.includes(ns)), {
        timeoutMs: 20_000,
        description: 'a watch to fail with 403',
      });
      // Changed while the operator cannot see it.
      await steps.putSecret(ns, 'key-a', { apiKey: KEY_B, unrelated: 'not-referenced' });
    } finally {
      await restore();
    }
    const t0 = performance.now();
    await waitFor(async () => (await steps.renderedCredentials(ns))!.values[`${ns}.chat_primary`] === KEY_B, {
      timeoutMs: 45_000,
      description: 'the operator to catch up after the outage',
    });
    timings.outageRecovery = Math.round(performance.now() - t0);
    expect(op.logs.slice(failedFrom).some((l) => /forbidden/i.test(l))).toBe(true);
    expect(op.logs.join('\n')).not.toContain(KEY_B);
  }, 90_000);
});

describe('llmroute operator (cluster-wide)', () => {
  // A cluster-wide grant to llmroute-operator-test would show in test files
  // running alongside that check the user has no such rights; this test
  // impersonates a user of its own instead, bound to the same rules.
  const admin = adminKubeConfig();
  const steps = new ClusterSteps(admin);
  let ns: string;
  let leaseNs: string;
  let grant: OperatorGrant;
  let op: TestOperator | undefined;
  let user: string;
  let kc: KubeConfig;

  beforeAll(async () => {
    ns = await createNamespace(uniqueName('op-cw'));
    leaseNs = uniqueName('op-cw-lease');
    user = uniqueName('llmroute-operator-cw');
    kc = impersonating(admin, user);
    grant = await grantOperatorRbac(admin, kc, { user, suffix: uniqueName('cw'), leaseNamespace: leaseNs, scope: 'cluster' });
  });

  afterAll(async () => {
    await op?.stop();
    await grant?.revoke();
    steps.close();
    await deleteNamespace(ns);
    await deleteNamespace(leaseNs);
  });

  it('renders routes in any namespace', async () => {
    await steps.putSecret(ns, 'k', { apiKey: KEY_A });
    await steps.applyRoute(ns, 'anywhere', { targets: [target('a', 'k')] });
    op = await startTestOperator(kc, { leaseNamespace: leaseNs });
    await waitFor(async () => routeNames(await steps.renderedConfigMap(ns)).includes('anywhere'), { description: 'a cluster-wide render' });
    await waitFor(async () => conditionOf(await steps.getRoute(ns, 'anywhere'), 'Ready')?.status === 'True', { description: 'Ready' });
    expect(op.logs.filter((l) => /HTTP 403|forbidden/i.test(l))).toEqual([]);
  });
});

/** The admin's kubeconfig, impersonating `user` (no groups but system:authenticated). */
function impersonating(admin: KubeConfig, user: string): KubeConfig {
  const kc = adminKubeConfig();
  const u = kc.getCurrentUser()!;
  (u as { impersonateUser?: string }).impersonateUser = user;
  void admin;
  return kc;
}
