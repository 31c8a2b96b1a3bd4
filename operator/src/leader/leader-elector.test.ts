import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../../common/log.ts';
import { KubeClient } from '../kube/kube-client.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { LeaderElector } from './leader-elector.ts';

/** A Lease endpoint with resourceVersion checks, like the API server's. */
async function leaseServer() {
  let lease: any;
  let rv = 0;
  let failing = false;
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const send = (code: number, obj: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
    if (failing) return send(503, { kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'down' });
    if (req.method === 'GET') return lease ? send(200, lease) : send(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });
    const obj = JSON.parse(body);
    if (req.method === 'POST') {
      if (lease) return send(409, { kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'exists' });
      lease = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      return send(201, lease);
    }
    if (req.method === 'PUT') {
      if (obj.metadata.resourceVersion !== lease?.metadata.resourceVersion) return send(409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'modified' });
      lease = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      return send(200, lease);
    }
    send(405, {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    kc,
    lease: () => lease,
    set: (spec: object) => (lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'llmroute-operator', namespace: 'ns', resourceVersion: String(++rv) }, spec }),
    failAll: (on: boolean) => (failing = on),
    close: () => (server.closeAllConnections(), server.close()),
  };
}

function elector(kc: KubeConfig, clock: FakeClock, identity: string, events: string[]) {
  const client = new KubeClient(kc);
  const e = new LeaderElector({
    client,
    namespace: 'ns',
    name: 'llmroute-operator',
    identity,
    log: createLogger('error', () => {}),
    leaseDurationMs: 1000,
    renewDeadlineMs: 600,
    retryPeriodMs: 50,
    onStartedLeading: () => events.push(`${identity} leads`),
    onStoppedLeading: () => events.push(`${identity} stops`),
    clock,
  });
  return { e, client };
}

/**
 * Time passes on the fake clock only while all `loops` electors wait for
 * their next round (none is mid-request), so each round sees the Lease
 * server as the previous rounds left it, as it would in real time.
 */
async function runFor(clock: FakeClock, loops: number, ms: number): Promise<void> {
  const end = clock.now() + ms;
  do await clock.whenPending(loops);
  while (await clock.tick(end));
}

/** Runs the electors (as runFor) until cond holds; fails after ms of fake time. */
async function until(clock: FakeClock, loops: number, cond: () => boolean, ms = 3000): Promise<void> {
  const end = clock.now() + ms;
  for (;;) {
    await clock.whenPending(loops);
    if (cond()) return;
    if (!(await clock.tick(end))) throw new Error('timed out');
  }
}

describe('LeaderElector', () => {
  it('elects one of two, and hands over at once when the leader stops', async () => {
    const srv = await leaseServer();
    const events: string[] = [];
    const clock = new FakeClock();
    const a = elector(srv.kc, clock, 'a', events);
    const b = elector(srv.kc, clock, 'b', events);
    try {
      a.e.start();
      await until(clock, 1, () => a.e.isLeader);
      b.e.start();
      await runFor(clock, 2, 200);
      expect(b.e.isLeader).toBe(false);
      expect(b.e.holder).toBe('a');
      const t0 = clock.now();
      await a.e.stop();
      expect(srv.lease().spec.holderIdentity).toBeNull();
      await until(clock, 1, () => b.e.isLeader);
      // Released: no need to wait out the 1 s Lease.
      expect(clock.now() - t0).toBeLessThan(500);
      expect(srv.lease().spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
      expect(events).toEqual(['a leads', 'a stops', 'b leads']);
    } finally {
      await a.e.stop();
      await b.e.stop();
      a.client.close();
      b.client.close();
      srv.close();
    }
  });

  it('waits out the Lease of a holder that stopped renewing, then takes it', async () => {
    const srv = await leaseServer();
    const events: string[] = [];
    const clock = new FakeClock();
    const b = elector(srv.kc, clock, 'b', events);
    srv.set({ holderIdentity: 'ghost', leaseDurationSeconds: 1, renewTime: '2025-01-01T00:00:00.000000Z', leaseTransitions: 7 });
    try {
      const t0 = clock.now();
      b.e.start();
      await runFor(clock, 1, 300);
      expect(b.e.isLeader).toBe(false);
      await until(clock, 1, () => b.e.isLeader);
      expect(clock.now() - t0).toBeGreaterThanOrEqual(1000);
      expect(srv.lease().spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 8 });
    } finally {
      await b.e.stop();
      b.client.close();
      srv.close();
    }
  });

  it('steps down when it cannot renew within the deadline', async () => {
    const srv = await leaseServer();
    const events: string[] = [];
    const clock = new FakeClock();
    const a = elector(srv.kc, clock, 'a', events);
    try {
      a.e.start();
      await until(clock, 1, () => a.e.isLeader);
      srv.failAll(true);
      await until(clock, 1, () => !a.e.isLeader);
      expect(events).toEqual(['a leads', 'a stops']);
      srv.failAll(false);
      await until(clock, 1, () => a.e.isLeader);
    } finally {
      await a.e.stop();
      a.client.close();
      srv.close();
    }
  });
});
