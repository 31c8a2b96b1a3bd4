import { llmRoute, openaiTarget } from '../testing/fixtures.ts';
import { referencedSecrets, secretChangeVerdict, slimRoute, slimSecret, type CachedSecret } from './change-filter.ts';

const secret = (name: string, data: Record<string, string>): CachedSecret => ({ metadata: { name, namespace: 'shop' }, data });
const routes = [llmRoute('chat', { targets: [openaiTarget('a', 'used'), openaiTarget('b', 'waited-for')] })];
const verdict = (b: CachedSecret | undefined, a: CachedSecret | undefined, own = false) => secretChangeVerdict(b, a, { routes, isOwnWrite: () => own });

describe('secretChangeVerdict', () => {
  it('reconciles for a referenced Secret that appears, changes or goes', () => {
    expect(verdict(undefined, secret('waited-for', { apiKey: 'x' }))).toBe('reconcile');
    expect(verdict(secret('used', { apiKey: 'x' }), secret('used', { apiKey: 'y' }))).toBe('reconcile');
    expect(verdict(secret('used', { apiKey: 'x' }), undefined)).toBe('reconcile');
  });

  it('ignores unreferenced Secrets and changes that leave the data alone', () => {
    expect(verdict(undefined, secret('unrelated', { a: 'b' }))).toBe('ignore');
    expect(verdict(secret('used', { apiKey: 'x' }), secret('used', { apiKey: 'x' }))).toBe('ignore');
  });

  it('repairs the rendered Secret when someone else changed or deleted it', () => {
    expect(verdict(secret('llmroute-credentials', { k: 'v' }), undefined)).toBe('repair');
    expect(verdict(undefined, secret('llmroute-credentials', { k: 'tampered' }), false)).toBe('repair');
    expect(verdict(undefined, secret('llmroute-credentials', { k: 'v' }), true)).toBe('ignore');
    expect(secretChangeVerdict(secret('llmroute-credentials', {}), undefined, { routes: [], isOwnWrite: () => false })).toBe('ignore');
  });

  it('knows which Secrets routes refer to, even in a malformed spec', () => {
    expect([...referencedSecrets(routes)].sort()).toEqual(['used', 'waited-for']);
    expect(referencedSecrets([llmRoute('bad', { targets: 'x' } as never)]).size).toBe(0);
  });
});

describe('cache trimming', () => {
  it('keeps only what rendering needs', () => {
    expect(slimSecret({ metadata: { name: 's', namespace: 'n', resourceVersion: '1', annotations: { big: 'x' } }, data: { k: 'dg==' } })).toEqual({
      metadata: { name: 's', namespace: 'n', resourceVersion: '1', uid: undefined },
      data: { k: 'dg==' },
    });
    const r = slimRoute({ ...llmRoute('r', { targets: [] }), metadata: { ...llmRoute('r', { targets: [] }).metadata, managedFields: [{}] } } as never);
    expect('managedFields' in r.metadata).toBe(false);
  });

  it('drops from a route what nothing reads: managedFields, labels, annotations, finalizers, ownerReferences', () => {
    const full = llmRoute('r', { targets: [openaiTarget('a')] }, { generation: 3, status: { observedGeneration: 2 } });
    const fat = {
      ...full,
      extra: 'x',
      metadata: {
        ...full.metadata,
        resourceVersion: '7',
        deletionTimestamp: '2025-02-01T00:00:00Z',
        labels: { app: 'x' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":true}' },
        managedFields: [{ manager: 'kubectl' }],
        finalizers: ['f'],
        ownerReferences: [{ name: 'o' }],
      },
    };
    expect(slimRoute(fat as never)).toEqual({
      apiVersion: full.apiVersion,
      kind: full.kind,
      metadata: { ...full.metadata, resourceVersion: '7', deletionTimestamp: '2025-02-01T00:00:00Z' },
      spec: full.spec,
      status: { observedGeneration: 2 },
    });
  });

  it('drops from a Secret all but its name, versions and data', () => {
    const s = slimSecret({ metadata: { name: 's', namespace: 'n', uid: 'u', resourceVersion: '2', labels: { a: 'b' }, managedFields: [{}] }, data: { k: 'dg==' }, type: 'Opaque' } as never);
    expect(s).toEqual({ metadata: { name: 's', namespace: 'n', resourceVersion: '2', uid: 'u' }, data: { k: 'dg==' } });
  });
});
