import { llmRoute } from '../testing/fixtures.ts';
import { configMapManifest, credentialsBeforeConfig, credentialsSecretManifest, eventManifest, ownerReferences, sameData } from './manifests.ts';
import { redact } from './redact.ts';

describe('manifests', () => {
  const routes = [llmRoute('b', { targets: [] }), llmRoute('a', { targets: [] })];

  it('labels the rendered objects and lets every route own them', () => {
    const owners = ownerReferences(routes);
    expect(owners).toEqual([
      { apiVersion: 'llmroute.dev/v1alpha1', kind: 'LLMRoute', name: 'a', uid: 'uid-a' },
      { apiVersion: 'llmroute.dev/v1alpha1', kind: 'LLMRoute', name: 'b', uid: 'uid-b' },
    ]);
    const cm = configMapManifest('shop', 'routes: []\n', owners);
    expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'llmroute-config', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'llmroute' } }, data: { 'config.yaml': 'routes: []\n' } });
    expect(credentialsSecretManifest('shop', { k: 'dg==' }, owners)).toMatchObject({ kind: 'Secret', type: 'Opaque', metadata: { name: 'llmroute-credentials' }, data: { k: 'dg==' } });
  });

  it('writes old ∪ new keys before the config, new values winning', () => {
    expect(credentialsBeforeConfig({ old: '1', both: 'x' }, { both: 'y', fresh: '2' })).toEqual({ both: 'y', fresh: '2', old: '1' });
    expect(credentialsBeforeConfig(undefined, { a: '1' })).toEqual({ a: '1' });
    expect(sameData({ a: '1' }, { a: '1' })).toBe(true);
    expect(sameData({ a: '1' }, { a: '1', b: '2' })).toBe(false);
    expect(sameData(undefined, {})).toBe(true);
  });

  it('builds a core/v1 Event on the route', () => {
    const e = eventManifest(routes[0]!, { type: 'Warning', reason: 'KeyNotFound', message: 'm' }, { now: new Date('2025-01-01T00:00:00.500Z'), instance: 'pod-1', suffix: 'abc' });
    expect(e).toMatchObject({
      metadata: { name: 'b.abc', namespace: 'shop' },
      involvedObject: { kind: 'LLMRoute', name: 'b', namespace: 'shop', uid: 'uid-b' },
      type: 'Warning',
      reason: 'KeyNotFound',
      reportingComponent: 'llmroute-operator',
      reportingInstance: 'pod-1',
      firstTimestamp: '2025-01-01T00:00:00Z',
      count: 1,
    });
  });
});

describe('redact', () => {
  it('removes values, plain and base64', () => {
    const b64 = Buffer.from('sk-secret-1234').toString('base64');
    expect(redact(`bad value sk-secret-1234 and ${b64}`, [b64])).toBe('bad value [redacted] and [redacted]');
    expect(redact('nothing here', [b64])).toBe('nothing here');
  });
});
