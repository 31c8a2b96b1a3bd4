// Leader election with real operator processes (the CLI, as the
// unprivileged test user bound to config/rbac): of two replicas only the
// leader writes; SIGTERM makes the leader release its Lease and the other
// takes over at once; a leader that dies without a word loses the Lease
// when it expires (15 s).
//
// Then in-process replicas (as the same user) with a retry period far
// longer than any handover should take: the standby's Lease watch is what
// must wake it; a handover in the middle of a churn of updates loses and
// undoes none (every route ends with its last generation rendered and
// observed, no ConfigMap or status goes back to an older one); and a
// resync, like the new leader's first pass, writes nothing that has not
// changed.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import yaml from 'js-yaml';
import { ClusterSteps, startTestOperator, type TestOperator } from '../../operator/src/testing/e2e-helpers.ts';
import { spawnNodeScript, type Child } from '../../operator/src/testing/processes.ts';
import { grantOperatorRbac, type OperatorGrant } from '../../operator/src/testing/rbac.ts';
import { adminKubeConfig, createNamespace, deleteNamespace, e2eState, testUserName, uniqueName, userKubeConfig, waitFor } from './harness/kube.ts';

const target = { name: 'a', provider: 'openai', model: 'm', apiKeySecretRef: { name: 'k', key: 'apiKey' } };

jest.setTimeout(60_000);

describe('leader election (two operator processes)', () => {
  const admin = adminKubeConfig();
  const steps = new ClusterSteps(admin);
  let ns: string;
  let leaseNs: string;
  let grant: OperatorGrant;
  const children: Child[] = [];

  function startReplica(id: string): Child {
    const child = spawnNodeScript('operator/src/cli.ts', [
      '--kubeconfig', e2eState().userKubeconfigPath,
      '--namespace', ns,
      '--leader-election-namespace', leaseNs,
      '--metrics-port', '0',
      '--metrics-host', '127.0.0.1',
      '--id', id,
    ]);
    children.push(child);
    return child;
  }

  async function portOf(c: Child): Promise<number> {
    const started = await c.waitForLine((_l, j) => j?.msg === 'llmroute operator started');
    return started.port as number;
  }

  async function metric(port: number, name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let sum = 0;
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
    return sum;
  }

  async function holder(): Promise<{ holderIdentity?: string; leaseTransitions?: number }> {
    const lease = await steps.api.request<any>('GET', `/apis/coordination.k8s.io/v1/namespaces/${leaseNs}/leases/llmroute-operator`);
    return lease.spec;
  }

  beforeAll(async () => {
    ns = await createNamespace(uniqueName('leader'));
    leaseNs = uniqueName('leader-lease');
    grant = await grantOperatorRbac(admin, userKubeConfig(), { user: testUserName(), suffix: uniqueName('le'), leaseNamespace: leaseNs, scope: [ns] });
    await steps.putSecret(ns, 'k', { apiKey: 'sk-leader-test' });
  });

  afterAll(async () => {
    for (const c of children) await c.stop('SIGKILL');
    await grant?.revoke();
    steps.close();
    await deleteNamespace(ns);
    await deleteNamespace(leaseNs);
  });

  it('lets only the leader reconcile, and hands over on SIGTERM and on expiry', async () => {
    const a = startReplica('replica-a');
    await a.waitForLine((_l, j) => j?.msg === 'became the leader');
    const portA = await portOf(a);
    const b = startReplica('replica-b');
    const portB = await portOf(b);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${portB}/readyz`)).status === 200, { description: 'replica-b ready' });
    expect(await holder()).toMatchObject({ holderIdentity: 'replica-a' });

    // Work arrives: only the leader does it.
    await steps.applyRoute(ns, 'r', { targets: [target] });
    await waitFor(async () => (await steps.renderedConfigMap(ns))?.config.routes.length === 1, { description: 'the render' });
    await steps.applyRoute(ns, 'r', { aliases: ['x'], targets: [target] });
    await waitFor(async () => (await steps.renderedConfigMap(ns))?.config.routes[0]?.aliases?.[0] === 'x', { description: 'the update' });
    expect(await metric(portA, 'llmroute_operator_leader')).toBe(1);
    expect(await metric(portB, 'llmroute_operator_leader')).toBe(0);
    expect(await metric(portA, 'llmroute_operator_api_writes_total')).toBeGreaterThan(0);
    expect(await metric(portB, 'llmroute_operator_api_writes_total')).toBe(0);
    expect(await metric(portB, 'llmroute_operator_reconcile_total')).toBe(0);
    // The follower keeps its caches warm all the same.
    expect((await fetch(`http://127.0.0.1:${portB}/readyz`)).status).toBe(200);

    // SIGTERM: the leader releases the Lease; the follower's Lease watch sees it and it takes over at once.
    const t0 = performance.now();
    expect(await a.stop('SIGTERM')).toBe(0);
    expect(a.lines.some((l) => l.includes('"released the Lease"'))).toBe(true);
    await b.waitForLine((_l, j) => j?.msg === 'became the leader', 10_000);
    const handover = Math.round(performance.now() - t0);
    expect(await holder()).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
    await steps.applyRoute(ns, 'r', { aliases: ['y'], targets: [target] });
    await waitFor(async () => (await steps.renderedConfigMap(ns))?.config.routes[0]?.aliases?.[0] === 'y', { description: 'the new leader to render' });
    expect(await metric(portB, 'llmroute_operator_api_writes_total')).toBeGreaterThan(0);

    // SIGKILL: no release; the next replica waits out the Lease (15 s) and takes over.
    const c = startReplica('replica-c');
    const portC = await portOf(c);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${portC}/readyz`)).status === 200, { description: 'replica-c ready' });
    const t1 = performance.now();
    await b.stop('SIGKILL');
    await c.waitForLine((_l, j) => j?.msg === 'became the leader', 30_000);
    const expiry = Math.round(performance.now() - t1);
    expect(expiry).toBeGreaterThan(10_000);
    expect(await holder()).toMatchObject({ holderIdentity: 'replica-c', leaseTransitions: 2 });
    await steps.applyRoute(ns, 'r', { aliases: ['z'], targets: [target] });
    await waitFor(async () => (await steps.renderedConfigMap(ns))?.config.routes[0]?.aliases?.[0] === 'z', { description: 'replica-c to render' });
    expect(await c.stop('SIGTERM')).toBe(0);
    // eslint-disable-next-line no-console
    console.log(`leader handover: SIGTERM ${handover} ms, SIGKILL (Lease expiry) ${expiry} ms`);
  }, 90_000);
});

describe('leader handover (in-process replicas, retry period 30 s)', () => {
  const admin = adminKubeConfig();
  const steps = new ClusterSteps(admin);
  const RETRY_MS = 30_000;
  const nss: string[] = [];
  let leaseNs: string;
  let grant: OperatorGrant;
  const replicas: TestOperator[] = [];

  /** A replica as the unprivileged user; the Lease outlives several retry periods, so only a release or the watch hands it over quickly. */
  async function replica(id: string): Promise<TestOperator> {
    const op = await startTestOperator(userKubeConfig(), {
      identity: id,
      namespaces: nss,
      leaseNamespace: leaseNs,
      leaseDurationMs: 4 * RETRY_MS,
      renewDeadlineMs: 3 * RETRY_MS,
      retryPeriodMs: RETRY_MS,
    });
    replicas.push(op);
    return op;
  }

  async function metric(op: TestOperator, name: string, match = ''): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${op.port}/metrics`)).text();
    let sum = 0;
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) if ((m[1] ?? '').includes(match)) sum += Number(m[2]);
    return sum;
  }

  /** Waits until the leader's queue is empty and nothing is in flight: every namespace reconciled. */
  async function settled(op: TestOperator): Promise<void> {
    await waitFor(async () => op.controller.queue.depth === 0 && (await metric(op, 'llmroute_operator_queue_depth')) === 0, { description: 'the queue to drain', intervalMs: 100 });
  }

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) nss.push(await createNamespace(uniqueName(`handover-${i}`)));
    leaseNs = uniqueName('handover-lease');
    grant = await grantOperatorRbac(admin, userKubeConfig(), { user: testUserName(), suffix: uniqueName('ho'), leaseNamespace: leaseNs, scope: nss });
    for (const ns of nss) await steps.putSecret(ns, 'k', { apiKey: `sk-${ns}` });
  });

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await grant?.revoke();
    steps.close();
    for (const ns of nss) await deleteNamespace(ns);
    await deleteNamespace(leaseNs);
  });

  it('takes over a released Lease through its watch, long before its retry period; churn across the handover is neither lost nor undone; an unchanged cluster gets no write', async () => {
    const ROUTES = ['r0', 'r1', 'r2'];
    const ROUNDS = 8;
    const spec = (route: string, round: number) => ({ aliases: [`${route}-v${round}`], targets: [target] });
    const versionOf = (alias: string | undefined) => (alias ? Number(alias.split('-v')[1]) : -1);

    // What every rendered ConfigMap and every route status went through, from a watch of their own.
    const seenConfig = new Map<string, number[]>();
    const seenObserved = new Map<string, number[]>();
    const watching = new AbortController();
    const watches = nss.flatMap((ns) => [
      steps.api.watch<any>(`/api/v1/namespaces/${ns}/configmaps`, { fieldSelector: 'metadata.name=llmroute-config' }, (e) => {
        if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
        const config = yaml.load(e.object.data?.['config.yaml'] ?? '') as { routes?: Array<{ name: string; aliases?: string[] }> };
        for (const r of config.routes ?? []) seenConfig.set(`${ns}/${r.name}`, [...(seenConfig.get(`${ns}/${r.name}`) ?? []), versionOf(r.aliases?.[0])]);
      }, watching.signal).catch(() => undefined),
      steps.api.watch<any>(`/apis/llmroute.dev/v1alpha1/namespaces/${ns}/llmroutes`, {}, (e) => {
        const key = `${ns}/${e.object.metadata?.name}`;
        const observed = e.object.status?.observedGeneration;
        if (observed !== undefined) seenObserved.set(key, [...(seenObserved.get(key) ?? []), observed]);
      }, watching.signal).catch(() => undefined),
    ]);

    const a = await replica('replica-a');
    await waitFor(() => a.isLeader(), { description: 'replica-a to lead' });
    const b = await replica('replica-b');
    await waitFor(() => b.ready(), { description: 'replica-b synced (standby)' });
    expect(b.isLeader()).toBe(false);

    // Round 0 creates the routes; the churn updates every route each round, the handover after round 3.
    const update = (round: number) => Promise.all(nss.flatMap((ns) => ROUTES.map((r) => steps.applyRoute(ns, r, spec(r, round)))));
    await update(0);
    let handoverMs = -1;
    let takeover: Promise<void> | undefined;
    for (let round = 1; round <= ROUNDS; round++) {
      if (round === 4) {
        const t0 = performance.now();
        takeover = (async () => {
          await a.stop();
          await waitFor(() => b.isLeader(), { description: 'replica-b to lead', timeoutMs: RETRY_MS, intervalMs: 20 });
          handoverMs = Math.round(performance.now() - t0);
        })();
      }
      await update(round);
    }
    await takeover;
    // Before its first retry round came due: the Lease watch woke it (a poll could not have).
    expect(handoverMs).toBeGreaterThanOrEqual(0);
    expect(handoverMs).toBeLessThan(RETRY_MS);

    // The end state: every route's last generation observed and Ready, its last spec rendered.
    await waitFor(
      async () => {
        for (const ns of nss) {
          const cm = await steps.renderedConfigMap(ns);
          for (const r of ROUTES) {
            const route = await steps.getRoute(ns, r);
            const ready = (route.status as any)?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True';
            if (!ready || (route.status as any)?.observedGeneration !== route.metadata.generation) return false;
            if (versionOf(cm?.config.routes.find((x) => x.name === r)?.aliases?.[0]) !== ROUNDS) return false;
          }
        }
        return true;
      },
      { description: 'every route observed and rendered at its last generation', timeoutMs: 60_000 },
    );
    await settled(b);
    watching.abort();
    await Promise.all(watches);

    // Nothing went back: each route's version in its ConfigMap and its observedGeneration only ever rose.
    const regressions: string[] = [];
    for (const [what, seen] of [['ConfigMap', seenConfig], ['status.observedGeneration', seenObserved]] as const) {
      for (const [key, xs] of seen) for (let i = 1; i < xs.length; i++) if (xs[i]! < xs[i - 1]!) regressions.push(`${key}: ${what} ${xs[i - 1]} → ${xs[i]}`);
    }
    expect(regressions).toEqual([]);
    expect(seenConfig.size).toBe(nss.length * ROUTES.length);

    // A resync over an unchanged cluster renders every namespace and writes nothing.
    const writes = await metric(b, 'llmroute_operator_api_writes_total');
    const applies = await metric(b, 'llmroute_operator_kube_requests_total', 'verb="apply"');
    const reconciles = await metric(b, 'llmroute_operator_reconcile_total');
    b.controller.resync();
    await waitFor(async () => (await metric(b, 'llmroute_operator_reconcile_total')) >= reconciles + nss.length, { description: 'the resync', intervalMs: 100 });
    await settled(b);
    expect(await metric(b, 'llmroute_operator_api_writes_total')).toBe(writes);
    expect(await metric(b, 'llmroute_operator_kube_requests_total', 'verb="apply"')).toBe(applies);

    // A hand edit of a rendered ConfigMap is undone at once (its watch event), no resync needed.
    await steps.api.request('PATCH', `/api/v1/namespaces/${nss[0]}/configmaps/llmroute-config`, {
      contentType: 'application/merge-patch+json',
      body: { data: { 'config.yaml': 'routes: []\n' } },
    });
    await waitFor(async () => (await steps.renderedConfigMap(nss[0]!))?.config.routes.length === ROUTES.length, { description: 'the edit repaired', timeoutMs: 10_000 });
    // eslint-disable-next-line no-console
    console.log(`leader handover through the Lease watch (retry period ${RETRY_MS} ms): ${handoverMs} ms from stop() to the new leader`);
  }, 120_000);
});
