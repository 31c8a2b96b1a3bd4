import { createLogger } from '../../../common/log.ts';
import type { KubeListWatchOptions, ListWatchFactory } from '../kube/kube-list-watch.ts';
import { OperatorMetrics } from '../server/metrics.ts';
import { llmRoute, openaiTarget } from '../testing/fixtures.ts';
import type { ClusterWriter } from './cluster-writer.ts';
import { LLMRouteController } from './controller.ts';

const writer: ClusterWriter = { apply: async () => {}, remove: async () => {}, applyRouteStatus: async () => true, createEvent: async () => {} };

function opened(namespaces: string[]): Array<{ path: string; labelSelector?: string | undefined; fieldSelector?: string | undefined }> {
  const calls: Array<{ path: string; labelSelector?: string | undefined; fieldSelector?: string | undefined }> = [];
  const listWatch = ((path: string, o: KubeListWatchOptions<any> = {}) => {
    calls.push({ path, labelSelector: o.labelSelector, fieldSelector: o.fieldSelector });
    return { list: async () => ({ items: [], resourceVersion: '1' }), watch: async () => {} };
  }) as ListWatchFactory;
  new LLMRouteController({ listWatch, writer, namespaces, log: createLogger('error', () => {}, 'operator'), metrics: new OperatorMetrics(), identity: 'x', resyncMs: 60_000 });
  return calls;
}

/** A controller over `n` namespaces of one route each (the caches list them once, watches stay quiet), workers not started. */
function controllerOver(n: number, w: ClusterWriter = writer): LLMRouteController {
  const routes = Array.from({ length: n }, (_, i) =>
    llmRoute('chat', { models: [`m${i}`], targets: [openaiTarget('a')] }, { namespace: `ns-${i}`, uid: `uid-${i}` }),
  );
  const listWatch = ((path: string) => ({
    list: async () => ({ items: path.endsWith('/llmroutes') ? routes.map((r) => structuredClone(r)) : [], resourceVersion: '1' }),
    watch: (_rv: string, _on: unknown, signal: AbortSignal) => new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true })),
  })) as unknown as ListWatchFactory;
  return new LLMRouteController({ listWatch, writer: w, namespaces: [], log: createLogger('error', () => {}, 'operator'), metrics: new OperatorMetrics(), identity: 'x', resyncMs: 3_600_000 });
}

/** Wraps the reconciler: every namespace reconciled, in order, and the most reconciles at once. */
function watchReconciles(c: LLMRouteController) {
  const seen = { done: [] as string[], inFlight: 0, maxInFlight: 0 };
  const real = c.reconciler.reconcile.bind(c.reconciler);
  c.reconciler.reconcile = async (ns: string) => {
    seen.maxInFlight = Math.max(seen.maxInFlight, ++seen.inFlight);
    try {
      return await real(ns);
    } finally {
      seen.inFlight--;
      seen.done.push(ns);
    }
  };
  return seen;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!cond()) throw new Error('timed out');
}

describe('LLMRouteController', () => {
  it("a new leader's first pass reconciles at most `workers` namespaces at once", async () => {
    // Writes that take a while, so that reconciles would pile up if anything let them.
    const slow: ClusterWriter = { ...writer, apply: () => new Promise((r) => setTimeout(r, 2)) };
    const c = controllerOver(40, slow);
    const seen = watchReconciles(c);
    c.start();
    c.startWorkers();
    await until(() => seen.done.length >= 40);
    await c.stop();
    expect(new Set(seen.done).size).toBe(40);
    expect(seen.maxInFlight).toBe(2);
  });

  it('turns the event loop between reconciles: a pass whose writes never wait on I/O is no burst that starves watches, the Lease and GC', async () => {
    // The writer resolves at once, as a resync of an unchanged cluster (no write at all) does.
    const c = controllerOver(200);
    const seen = watchReconciles(c);
    c.start();
    await c.whenSynced();
    // A turn of the loop (an I/O callback such as a watch event would run there) records how many reconciles went by since the last.
    const gaps: number[] = [];
    let last = 0;
    let turning = true;
    const turn = () => {
      gaps.push(seen.done.length - last);
      last = seen.done.length;
      if (turning) setImmediate(turn);
    };
    setImmediate(turn);
    c.startWorkers();
    await until(() => seen.done.length >= 200);
    turning = false;
    await c.stop();
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2);
  });


  it('lists and watches only the Secrets labelled llmroute.dev/credentials=true, and its own rendered Secret by name', () => {
    const secretSources = (calls: ReturnType<typeof opened>) => calls.filter((c) => c.path.endsWith('/secrets'));
    expect(secretSources(opened([]))).toEqual([
      { path: '/api/v1/secrets', labelSelector: 'llmroute.dev/credentials=true', fieldSelector: 'metadata.name!=llmroute-credentials' },
      { path: '/api/v1/secrets', labelSelector: 'app.kubernetes.io/managed-by=llmroute', fieldSelector: 'metadata.name=llmroute-credentials' },
    ]);
    const scoped = secretSources(opened(['a', 'b']));
    expect(scoped.map((c) => c.path)).toEqual(['/api/v1/namespaces/a/secrets', '/api/v1/namespaces/a/secrets', '/api/v1/namespaces/b/secrets', '/api/v1/namespaces/b/secrets']);
    // Every Secret source has a selector that the API server applies: none reads Secrets unfiltered.
    expect(scoped.every((c) => c.labelSelector && c.fieldSelector)).toBe(true);
  });

  it('lists and watches its rendered ConfigMaps by name and label only', () => {
    expect(opened([]).filter((c) => c.path.endsWith('/configmaps'))).toEqual([
      { path: '/api/v1/configmaps', labelSelector: 'app.kubernetes.io/managed-by=llmroute', fieldSelector: 'metadata.name=llmroute-config' },
    ]);
    expect(opened(['a']).filter((c) => c.path.endsWith('/configmaps')).map((c) => c.path)).toEqual(['/api/v1/namespaces/a/configmaps']);
  });
});
