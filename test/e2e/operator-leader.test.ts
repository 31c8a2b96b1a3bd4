// Leader election with real operator processes (the CLI, as the
// unprivileged test user bound to config/rbac): of two replicas only the
// leader writes; SIGTERM makes the leader release its Lease and the other
// takes over at once; a leader that dies without a word loses the Lease
// when it expires (15 s).

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { ClusterSteps } from '../../operator/src/testing/e2e-helpers.ts';
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

    // SIGTERM: the leader releases the Lease; the follower takes over within a retry period.
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
