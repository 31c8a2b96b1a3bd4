import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../../common/log.ts';
import { KubeClient } from '../kube/kube-client.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { LeaderElector } from './leader-elector.ts';

/**
 * A Lease endpoint with resourceVersion checks, like the API server's: GET,
 * POST and a resourceVersion-guarded PUT of the one Lease, and on the
 * collection a list and a watch, both only with the fieldSelector
 * metadata.name=llmroute-operator (anything else is refused, 400), the
 * watch replaying every change after the resourceVersion it is opened at.
 */
async function leaseServer() {
  let lease: any;
  let rv = 0;
  let failing = false;
  let watchRefused = false;
  let leaseGets = 0;
  const history: Array<{ rv: number; line: string }> = [];
  const watchers = new Set<{ res: http.ServerResponse; from: number }>();
  const changed = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: any) => {
    const line = JSON.stringify({ type, object: obj }) + '\n';
    history.push({ rv, line });
    for (const w of watchers) w.res.write(line);
  };
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const send = (code: number, obj: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
    if (req.method === 'GET' && req.url?.startsWith('/apis/coordination.k8s.io/v1/namespaces/ns/leases/')) leaseGets++;
    if (failing) return send(503, { kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'down' });
    const url = new URL(req.url!, 'http://x');
    if (req.method === 'GET' && url.pathname === '/apis/coordination.k8s.io/v1/namespaces/ns/leases') {
      if (watchRefused) return send(403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'cannot list leases' });
      if (url.searchParams.get('fieldSelector') !== 'metadata.name=llmroute-operator') {
        return send(400, { kind: 'Status', code: 400, reason: 'BadRequest', message: 'this fake serves only the one Lease' });
      }
      if (url.searchParams.get('watch') !== 'true') return send(200, { kind: 'LeaseList', metadata: { resourceVersion: String(rv) }, items: lease ? [lease] : [] });
      const from = Number(url.searchParams.get('resourceVersion'));
      if (!Number.isInteger(from)) return send(400, { kind: 'Status', code: 400, reason: 'BadRequest', message: 'a watch needs a resourceVersion' });
      res.writeHead(200, { 'content-type': 'application/json' });
      for (const h of history) if (h.rv > from) res.write(h.line);
      const w = { res, from };
      watchers.add(w);
      res.on('close', () => watchers.delete(w));
      return;
    }
    if (req.method === 'GET') return lease ? send(200, lease) : send(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });
    const obj = JSON.parse(body);
    if (req.method === 'POST') {
      if (lease) return send(409, { kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'exists' });
      lease = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      changed('ADDED', lease);
      return send(201, lease);
    }
    if (req.method === 'PUT') {
      if (obj.metadata.resourceVersion !== lease?.metadata.resourceVersion) return send(409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'modified' });
      lease = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      changed('MODIFIED', lease);
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
    /** Someone else writes the Lease (a MODIFIED event, or ADDED when there was none). */
    set: (spec: object) => {
      const type = lease ? 'MODIFIED' : 'ADDED';
      lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'llmroute-operator', namespace: 'ns', resourceVersion: String(++rv) }, spec };
      changed(type, lease);
    },
    /** Every request fails with 503 and open watches drop, as when the API server is unreachable. */
    failAll: (on: boolean) => {
      failing = on;
      if (on) for (const w of watchers) w.res.destroy();
    },
    /** Lists and watches of Leases are forbidden (RBAC without list/watch): only the polling is left. */
    refuseWatch: () => {
      watchRefused = true;
      for (const w of watchers) w.res.destroy();
    },
    watchers: () => watchers.size,
    /** GETs of the Lease by name (the election rounds), failed ones included. */
    leaseGets: () => leaseGets,
    close: () => (server.closeAllConnections(), server.close()),
  };
}

/** What the electors did, in order; when(e) resolves once e has happened. */
class EventLog {
  readonly list: string[] = [];
  readonly #waiters: Array<{ e: string; resolve: () => void }> = [];
  push(e: string): void {
    this.list.push(e);
    for (const w of this.#waiters.filter((w) => w.e === e)) w.resolve();
  }
  when(e: string): Promise<void> {
    if (this.list.includes(e)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ e, resolve }));
  }
}

function elector(kc: KubeConfig, clock: FakeClock, identity: string, events: EventLog, timing: { leaseDurationMs?: number; retryPeriodMs?: number } = {}) {
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
    ...timing,
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

/** Yields to I/O until n Lease watches are open on the server (time stands still). */
async function watching(srv: { watchers(): number }, clock: FakeClock, n = 1): Promise<void> {
  while (srv.watchers() < n) await clock.tick(clock.now());
}

type Scenario = {
  srv: Awaited<ReturnType<typeof leaseServer>>;
  clock: FakeClock;
  events: EventLog;
  /** An elector on the scenario's server and clock, stopped and closed at the end. */
  elector: (identity: string, timing?: { leaseDurationMs?: number; retryPeriodMs?: number }) => LeaderElector;
};

/** Runs fn against a fresh Lease server, fake clock and event log; stops every elector it made and the server after. */
async function scenario(fn: (s: Scenario) => Promise<void>): Promise<void> {
  const srv = await leaseServer();
  const clock = new FakeClock();
  const events = new EventLog();
  const made: Array<ReturnType<typeof elector>> = [];
  try {
    await fn({
      srv,
      clock,
      events,
      elector: (identity, timing) => {
        const x = elector(srv.kc, clock, identity, events, timing);
        made.push(x);
        return x.e;
      },
    });
  } finally {
    for (const x of made) {
      await x.e.stop();
      x.client.close();
    }
    srv.close();
  }
}

describe('LeaderElector', () => {
  it('elects one of two, and the standby takes over the moment the leader releases the Lease (its watch, no time passing)', () =>
    scenario(async ({ srv, clock, events, elector }) => {
      const a = elector('a');
      const b = elector('b');
      a.start();
      await until(clock, 1, () => a.isLeader);
      b.start();
      await runFor(clock, 2, 200);
      expect(b.isLeader).toBe(false);
      expect(b.holder).toBe('a');
      const t0 = clock.now();
      await a.stop();
      expect(srv.lease().spec.holderIdentity).toBeNull();
      // No tick of the clock: no retry period, no Lease expiry; the watch event alone wakes b.
      await events.when('b leads');
      expect(clock.now()).toBe(t0);
      expect(srv.lease().spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
      expect(events.list).toEqual(['a leads', 'a stops', 'b leads']);
    }));

  it('takes a Lease someone else released at once, however long its retry period', () =>
    scenario(async ({ srv, clock, events, elector }) => {
      srv.set({ holderIdentity: 'other', leaseDurationSeconds: 60, renewTime: '2025-06-01T12:00:00.000000Z', leaseTransitions: 2 });
      const b = elector('b', { leaseDurationMs: 60_000, retryPeriodMs: 60_000 });
      b.start();
      await clock.whenPending(1);
      await watching(srv, clock);
      expect(b.isLeader).toBe(false);
      const t0 = clock.now();
      srv.set({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 2 });
      await events.when('b leads');
      expect(clock.now()).toBe(t0);
      expect(srv.lease().spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 3 });
    }));

  it('waits out the Lease of a holder that stopped renewing, then takes it when it runs out, not a retry period later', () =>
    scenario(async ({ srv, clock, elector }) => {
      // retryPeriod 10 s, the Lease 1 s: the round is timed to the Lease's expiry.
      const b = elector('b', { retryPeriodMs: 10_000 });
      srv.set({ holderIdentity: 'ghost', leaseDurationSeconds: 1, renewTime: '2025-01-01T00:00:00.000000Z', leaseTransitions: 7 });
      const t0 = clock.now();
      b.start();
      await runFor(clock, 1, 300);
      expect(b.isLeader).toBe(false);
      await until(clock, 1, () => b.isLeader, 20_000);
      expect(clock.now() - t0).toBeGreaterThanOrEqual(1000);
      expect(clock.now() - t0).toBeLessThan(2000);
      expect(srv.lease().spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 8 });
    }));

  it('does not take a Lease whose holder keeps renewing, polled rarely or not', () =>
    scenario(async ({ srv, clock, events, elector }) => {
      const b = elector('b', { retryPeriodMs: 10_000 });
      const renew = (i: number) => srv.set({ holderIdentity: 'busy', leaseDurationSeconds: 1, renewTime: `2025-06-01T12:00:0${i}.000000Z`, leaseTransitions: 1 });
      renew(0);
      b.start();
      for (let i = 1; i < 8; i++) {
        await clock.whenPending(1);
        await watching(srv, clock);
        await clock.advance(700);
        renew(i);
      }
      await runFor(clock, 1, 500);
      expect(b.isLeader).toBe(false);
      expect(events.list).toEqual([]);
    }));

  it('steps down at once when its watch shows someone else holding the Lease', () =>
    scenario(async ({ srv, clock, events, elector }) => {
      const a = elector('a', { leaseDurationMs: 60_000, retryPeriodMs: 30_000 });
      a.start();
      await until(clock, 1, () => a.isLeader);
      await watching(srv, clock);
      const t0 = clock.now();
      srv.set({ ...srv.lease().spec, holderIdentity: 'usurper' });
      await events.when('a stops');
      expect(clock.now()).toBe(t0);
    }));

  it('still hands over by polling when it may not watch the Lease', () =>
    scenario(async ({ srv, clock, events, elector }) => {
      srv.refuseWatch();
      const a = elector('a');
      const b = elector('b');
      a.start();
      b.start();
      // Four loops wait on the clock: two electors, and two Lease watches in their backoff.
      await until(clock, 4, () => a.isLeader || b.isLeader);
      const [leader, standby, name] = a.isLeader ? [a, b, 'b'] : [b, a, 'a'];
      const t0 = clock.now();
      await leader.stop();
      await until(clock, 2, () => standby.isLeader);
      // Within a retry period (50 ms) or so, the watch's backoff notwithstanding; not the Lease's 1 s.
      expect(clock.now() - t0).toBeLessThan(500);
      expect(events.list.at(-1)).toBe(`${name} leads`);
    }));

  it('does not spin when the API server is away and the Lease it last saw has run out', () =>
    scenario(async ({ srv, clock, elector }) => {
      const b = elector('b', { retryPeriodMs: 1000 });
      srv.set({ holderIdentity: 'ghost', leaseDurationSeconds: 5, renewTime: '2025-01-01T00:00:00.000000Z', leaseTransitions: 1 });
      b.start();
      await runFor(clock, 1, 300);
      srv.failAll(true);
      const before = srv.leaseGets();
      // Past the Lease's expiry, ten retry periods of failures: a round each, not a busy loop.
      await runFor(clock, 1, 15_000);
      expect(srv.leaseGets() - before).toBeLessThanOrEqual(16);
      expect(b.isLeader).toBe(false);
    }));

  it('steps down when it cannot renew within the deadline', () =>
    scenario(async ({ srv, clock, events, elector }) => {
      const a = elector('a');
      a.start();
      await until(clock, 1, () => a.isLeader);
      srv.failAll(true);
      await until(clock, 1, () => !a.isLeader);
      expect(events.list).toEqual(['a leads', 'a stops']);
      srv.failAll(false);
      await until(clock, 1, () => a.isLeader);
    }));
});
