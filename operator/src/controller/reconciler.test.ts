import type { LLMRoute } from '../../../api/v1alpha1/types.ts';
import { createLogger } from '../../../common/log.ts';
import { KubeApiError } from '../errors.ts';
import { llmRoute, openaiTarget, secretsOf } from '../testing/fixtures.ts';
import type { RouteStatus } from '../render/types.ts';
import type { AppliedManifest, ClusterWriter } from './cluster-writer.ts';
import { slimRendered, type LiveRendered } from './live-state.ts';
import { NamespaceReconciler } from './reconciler.ts';

const KEY = 'sk-unit-0123456789';

function setup(routes: LLMRoute[], plain: Record<string, Record<string, string>> = { k: { apiKey: KEY } }) {
  const calls: string[] = [];
  const applied: AppliedManifest[] = [];
  const statuses = new Map<string, RouteStatus>();
  const events: any[] = [];
  const logs: string[] = [];
  // The rendered objects as the caches hold them: each write shows up there, as its watch event would.
  const live = new Map<'ConfigMap' | 'Secret', LiveRendered>();
  let failApply: Error | undefined;
  let beforeApply: ((m: AppliedManifest) => void) | undefined;
  const writer: ClusterWriter = {
    async apply(m) {
      beforeApply?.(m);
      if (failApply) throw failApply;
      calls.push(`apply ${m.kind}${m.kind === 'Secret' ? ` [${Object.keys((m as any).data).sort().join(',')}]` : ''}`);
      applied.push(m);
      live.set(m.kind, slimRendered(m as any, m.kind === 'Secret'));
    },
    async remove(kind) {
      calls.push(`delete ${kind}`);
    },
    async applyRouteStatus(_ns, name, status) {
      calls.push(`status ${name}`);
      statuses.set(name, status);
      return true;
    },
    async createEvent(_ns, e) {
      events.push(e);
    },
  };
  const state = { routes, secrets: secretsOf(plain) };
  const r = new NamespaceReconciler({
    routes: () => state.routes,
    secrets: () => state.secrets,
    live: (_ns, kind) => live.get(kind),
    writer,
    log: createLogger('debug', (l) => logs.push(l), 'operator'),
    instance: 'test',
    now: () => new Date('2025-06-01T00:00:00Z'),
  });
  /** Feeds the written statuses back into the routes, as the watch would. */
  const settle = () => (state.routes = state.routes.map((x) => ({ ...x, status: statuses.get(x.metadata.name) ?? x.status })));
  return {
    r,
    calls,
    applied,
    events,
    logs,
    state,
    settle,
    live,
    /** Someone else edits a rendered object (its data), as the cache would then show it. */
    tamper: (kind: 'ConfigMap' | 'Secret') => live.set(kind, { ...live.get(kind)!, dataHash: 'edited', ...(kind === 'Secret' ? { data: { foreign: 'eA==' } } : {}) }),
    failWith: (e: Error | undefined) => (failApply = e),
    onApply: (f: ((m: AppliedManifest) => void) | undefined) => (beforeApply = f),
  };
}

describe('NamespaceReconciler', () => {
  it('writes the Secret, then the ConfigMap, then the statuses and events', async () => {
    const t = setup([llmRoute('chat', { targets: [openaiTarget('a', 'k')] })]);
    const res = await t.r.reconcile('shop');
    expect(t.calls).toEqual(['apply Secret [shop.chat_a]', 'apply ConfigMap', 'status chat']);
    expect(res).toMatchObject({ routes: 1, rendered: 1, applied: true, statuses: 1, events: 1 });
    expect(t.events[0]).toMatchObject({ reason: 'Rendered', involvedObject: { name: 'chat' } });
  });

  it('writes nothing when nothing changed', async () => {
    const t = setup([llmRoute('chat', { targets: [openaiTarget('a', 'k')] })]);
    await t.r.reconcile('shop');
    t.settle();
    t.calls.length = 0;
    const res = await t.r.reconcile('shop');
    expect(t.calls).toEqual([]);
    expect(res).toMatchObject({ applied: false, statuses: 0, events: 0 });
    // A resync (or a new leader) has no memory of the writes: it compares with the cluster's objects, and they match.
    t.r.forgetApplied();
    await expect(t.r.reconcile('shop')).resolves.toMatchObject({ applied: false, statuses: 0 });
    expect(t.calls).toEqual([]);
  });

  it('writes on a resync only the objects that drifted', async () => {
    const t = setup([llmRoute('chat', { targets: [openaiTarget('a', 'k')] })]);
    await t.r.reconcile('shop');
    t.settle();
    t.calls.length = 0;
    t.tamper('ConfigMap');
    t.r.forgetApplied();
    await expect(t.r.reconcile('shop')).resolves.toMatchObject({ applied: true });
    expect(t.calls).toEqual(['apply ConfigMap']);
    t.calls.length = 0;
    t.tamper('Secret');
    t.r.forgetApplied();
    await t.r.reconcile('shop');
    // The foreign key goes in a second write, after the ConfigMap (unchanged: not written).
    expect(t.calls).toEqual(['apply Secret [foreign,shop.chat_a]', 'apply Secret [shop.chat_a]']);
    t.calls.length = 0;
    // An owner gone (a route deleted while this replica did not lead) is a difference too.
    t.live.set('ConfigMap', { ...t.live.get('ConfigMap')!, ownerUids: [...t.live.get('ConfigMap')!.ownerUids, 'uid-of-a-deleted-route'] });
    t.r.forgetApplied();
    await t.r.reconcile('shop');
    expect(t.calls).toEqual(['apply ConfigMap']);
  });

  it('tells its own ConfigMap writes (the latest, or one overtaken) from one someone else edited or deleted', async () => {
    const t = setup([llmRoute('chat', { targets: [openaiTarget('a', 'k')] })]);
    // Recorded before the write goes: an event that beats the response is known too.
    let checked = false;
    t.onApply((m) => {
      if (m.kind !== 'ConfigMap') return;
      expect(t.r.isOwnConfigMapWrite('shop', slimRendered(m as any, false))).toBe(true);
      checked = true;
    });
    await t.r.reconcile('shop');
    expect(checked).toBe(true);
    t.onApply(undefined);
    const first = t.live.get('ConfigMap');
    expect(t.r.isOwnConfigMapWrite('shop', first)).toBe(true);
    t.state.routes = [llmRoute('chat', { aliases: ['x'], targets: [openaiTarget('a', 'k')] }, { generation: 2 })];
    await t.r.reconcile('shop');
    expect(t.r.isOwnConfigMapWrite('shop', t.live.get('ConfigMap'))).toBe(true);
    // The first write's event arriving late is still this replica's own.
    expect(t.r.isOwnConfigMapWrite('shop', first)).toBe(true);
    t.tamper('ConfigMap');
    expect(t.r.isOwnConfigMapWrite('shop', t.live.get('ConfigMap'))).toBe(false);
    expect(t.r.isOwnConfigMapWrite('shop', undefined)).toBe(false);
  });

  it('writes only the ConfigMap for a change that leaves the credentials alone', async () => {
    const t = setup([llmRoute('chat', { targets: [openaiTarget('a', 'k')] })]);
    await t.r.reconcile('shop');
    t.settle();
    t.calls.length = 0;
    t.state.routes = [llmRoute('chat', { targets: [openaiTarget('a', 'k', 'apiKey', { model: 'gpt-4o' })] }, { generation: 2, status: t.state.routes[0]!.status })];
    await t.r.reconcile('shop');
    expect(t.calls).toEqual(['apply ConfigMap', 'status chat']);
  });

  it('drops a key only after the ConfigMap that stopped using it', async () => {
    const t = setup([llmRoute('one', { targets: [openaiTarget('a', 'k')] }), llmRoute('two', { targets: [openaiTarget('b', 'k')] })]);
    await t.r.reconcile('shop');
    t.settle();
    t.calls.length = 0;
    t.state.routes = t.state.routes.filter((x) => x.metadata.name === 'two');
    await t.r.reconcile('shop');
    expect(t.calls).toEqual(['apply Secret [shop.one_a,shop.two_b]', 'apply ConfigMap', 'apply Secret [shop.two_b]']);
    // Both Secret writes are recognised as this replica's own when their watch events come back.
    expect(t.r.isOwnCredentialsWrite('shop', (t.applied.at(-3) as any).data)).toBe(true);
    expect(t.r.isOwnCredentialsWrite('shop', (t.applied.at(-1) as any).data)).toBe(true);
    expect(t.r.isOwnCredentialsWrite('shop', { foreign: 'eA==' })).toBe(false);
  });

  it('deletes the ConfigMap, then the Secret, when no route is left', async () => {
    const t = setup([llmRoute('gone', { targets: [] }, {})]);
    t.state.routes = [];
    const res = await t.r.reconcile('shop');
    expect(t.calls).toEqual(['delete ConfigMap', 'delete Secret']);
    expect(res.deleted).toBe(true);
    // Routes being deleted count as gone.
    t.calls.length = 0;
    t.state.routes = [{ ...llmRoute('x', { targets: [] }), metadata: { ...llmRoute('x', { targets: [] }).metadata, deletionTimestamp: '2025-01-01T00:00:00Z' } }];
    await t.r.reconcile('shop');
    expect(t.calls).toEqual(['delete ConfigMap', 'delete Secret']);
  });

  it('does not take a write as current when a repair was requested while it ran', async () => {
    const t = setup([llmRoute('chat', { targets: [openaiTarget('a', 'k')] })]);
    // A repair requested mid-write: someone edited the ConfigMap meanwhile (the cache shows it after the write).
    t.onApply(() => t.r.forgetApplied('shop'));
    await t.r.reconcile('shop');
    t.onApply(undefined);
    t.tamper('ConfigMap');
    t.settle();
    t.calls.length = 0;
    await t.r.reconcile('shop');
    expect(t.calls).toEqual(['apply ConfigMap']);
  });

  it('takes a namespace being deleted in its stride', async () => {
    const t = setup([llmRoute('chat', { targets: [openaiTarget('a', 'k')] })]);
    t.failWith(new KubeApiError({ status: 403, reason: 'Forbidden', message: 'unable to create new content in namespace shop because it is being terminated', method: 'PATCH', path: '/x', causes: ['NamespaceTerminating'] }));
    await expect(t.r.reconcile('shop')).resolves.toMatchObject({ terminating: true });
  });

  it('throws other write errors, with any key value scrubbed from the message', async () => {
    const t = setup([llmRoute('chat', { targets: [openaiTarget('a', 'k')] })]);
    t.failWith(new KubeApiError({ status: 422, reason: 'Invalid', message: `data[x]: Invalid value: "${KEY}"`, method: 'PATCH', path: '/x' }));
    const err = (await t.r.reconcile('shop').catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err.message).not.toContain(KEY);
    expect(err.message).toContain('[redacted]');
    // Not recorded as applied: the next reconcile tries again.
    t.failWith(undefined);
    await t.r.reconcile('shop');
    expect(t.calls).toContain('apply ConfigMap');
  });

  it('records a warning event for a missing Secret, naming it but no value', async () => {
    const t = setup([llmRoute('chat', { targets: [openaiTarget('a', 'missing')] })]);
    const res = await t.r.reconcile('shop');
    expect(res.events).toBe(1);
    expect(t.events[0]).toMatchObject({ type: 'Warning', reason: 'SecretNotFound' });
    expect(t.logs.join('\n')).not.toContain(KEY);
  });
});
