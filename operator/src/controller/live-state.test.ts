import { configMapManifest, credentialsSecretManifest, MANAGED_BY_LABEL } from './manifests.ts';
import { isUpToDate, slimRendered, slimRenderedConfigMap, slimRenderedSecret } from './live-state.ts';

const owners = [{ apiVersion: 'llmroute.dev/v1alpha1', kind: 'LLMRoute', name: 'chat', uid: 'u1' }];

/** The object as the API server returns it: more metadata, fuller owner references, no kind on list items. */
function asServed(m: { metadata: object; data: Record<string, string> }, extra: { labels?: Record<string, string>; ownerUids?: string[]; data?: Record<string, string> } = {}) {
  const meta = m.metadata as { name: string; namespace: string; labels: Record<string, string> };
  return {
    metadata: {
      ...meta,
      uid: 'obj-uid',
      resourceVersion: '42',
      managedFields: [{ manager: 'llmroute-operator' }],
      labels: { ...meta.labels, ...extra.labels },
      ownerReferences: (extra.ownerUids ?? ['u1']).map((uid) => ({ apiVersion: 'llmroute.dev/v1alpha1', kind: 'LLMRoute', name: 'chat', uid, blockOwnerDeletion: false })),
    },
    data: extra.data ?? m.data,
  };
}

describe('live state of the rendered objects', () => {
  const cm = configMapManifest('shop', 'routes: []\n', owners);
  const secret = credentialsSecretManifest('shop', { 'shop.chat_a': 'c2stMQ==' }, owners);

  it('keeps a ConfigMap as a hash of its data, a Secret with its data', () => {
    const liveCm = slimRenderedConfigMap(asServed(cm));
    expect(liveCm).toEqual({ metadata: { name: 'llmroute-config', namespace: 'shop', resourceVersion: '42', uid: 'obj-uid' }, dataHash: expect.any(String), ownerUids: ['u1'], labels: { [MANAGED_BY_LABEL]: 'llmroute' } });
    expect(slimRenderedSecret(asServed(secret)).data).toEqual({ 'shop.chat_a': 'c2stMQ==' });
  });

  it('finds the served object up to date with the manifest that made it, others’ labels notwithstanding', () => {
    expect(isUpToDate(slimRenderedConfigMap(asServed(cm, { labels: { team: 'x' } })), slimRendered(cm, false))).toBe(true);
    expect(isUpToDate(slimRenderedSecret(asServed(secret)), slimRendered(secret, false))).toBe(true);
  });

  it('finds a difference in data, in its own label, in the owners, or no object at all', () => {
    const want = slimRendered(cm, false);
    expect(isUpToDate(undefined, want)).toBe(false);
    expect(isUpToDate(slimRenderedConfigMap(asServed(cm, { data: { 'config.yaml': 'routes: [x]\n' } })), want)).toBe(false);
    expect(isUpToDate(slimRenderedConfigMap(asServed(cm, { labels: { [MANAGED_BY_LABEL]: 'someone' } })), want)).toBe(false);
    expect(isUpToDate(slimRenderedConfigMap(asServed(cm, { ownerUids: ['u1', 'u-gone'] })), want)).toBe(false);
    expect(isUpToDate(slimRenderedConfigMap(asServed(cm, { ownerUids: [] })), want)).toBe(false);
  });
});
