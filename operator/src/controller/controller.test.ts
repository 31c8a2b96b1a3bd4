import { createLogger } from '../../../common/log.ts';
import type { KubeListWatchOptions, ListWatchFactory } from '../kube/kube-list-watch.ts';
import { OperatorMetrics } from '../server/metrics.ts';
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

describe('LLMRouteController', () => {
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
