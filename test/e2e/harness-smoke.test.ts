// Proves the e2e harness gives a real API server: real version, real
// storage, RBAC really enforced, server-side apply with real conflicts.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, RbacAuthorizationV1Api, VersionApi, type V1ConfigMap } from '@kubernetes/client-node';
import {
  adminKubeConfig,
  apiStatus,
  apiStatusBody,
  applyYaml,
  createNamespace,
  deleteNamespace,
  e2eState,
  expectApiError,
  testUserName,
  uniqueName,
  userKubeConfig,
  waitFor,
} from './harness/kube.ts';

describe('e2e harness', () => {
  const admin = adminKubeConfig();
  const adminCore = admin.makeApiClient(CoreV1Api);
  let ns: string;

  beforeAll(async () => {
    ns = await createNamespace(uniqueName('harness-smoke'));
  });

  afterAll(async () => {
    await deleteNamespace(ns);
  });

  it('exposes the state and a KUBECONFIG', () => {
    const state = e2eState();
    expect(state.url).toMatch(/^https:\/\//);
    expect(process.env.KUBECONFIG).toBe(state.kubeconfigPath);
    expect(state.userName).toBe('llmroute-operator-test');
  });

  it('talks to a real kube-apiserver v1.35.4', async () => {
    const version = await admin.makeApiClient(VersionApi).getCode();
    if (e2eState().mode === 'local') expect(version.gitVersion).toBe('v1.35.4');
    else expect(version.gitVersion).toMatch(/^v1\./);
  });

  it('creates and reads a ConfigMap as admin', async () => {
    const body: V1ConfigMap = { metadata: { name: 'hello', namespace: ns }, data: { greeting: 'hi' } };
    const created = await adminCore.createNamespacedConfigMap({ namespace: ns, body });
    expect(created.metadata?.uid).toBeTruthy();
    const read = await adminCore.readNamespacedConfigMap({ name: 'hello', namespace: ns });
    expect(read.data).toEqual({ greeting: 'hi' });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    // A second create of the same name is a real conflict.
    expect(await expectApiError(adminCore.createNamespacedConfigMap({ namespace: ns, body }))).toBe(409);
  });

  it('enforces RBAC: the test user may list Secrets cluster-wide only once granted', async () => {
    const userCore = userKubeConfig().makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const name = uniqueName('e2e-secret-reader');

    let denied: unknown;
    try {
      await userCore.listSecretForAllNamespaces();
    } catch (err) {
      denied = err;
    }
    expect(apiStatus(denied)).toBe(403);
    expect(apiStatusBody(denied)?.message).toContain(`User "${testUserName()}" cannot list resource "secrets"`);

    try {
      await rbac.createClusterRole({
        body: { metadata: { name }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }] },
      });
      await rbac.createClusterRoleBinding({
        body: {
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: testUserName() }],
        },
      });
      // The RBAC authorizer reads through an informer: allow it a moment.
      const list = await waitFor(() => userCore.listSecretForAllNamespaces(), {
        timeoutMs: 15_000,
        description: 'the test user to be allowed to list Secrets',
      });
      expect(Array.isArray(list.items)).toBe(true);
      // Still no write access.
      const status = await expectApiError(
        userCore.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'nope' }, stringData: { a: 'b' } } }),
      );
      expect(status).toBe(403);
    } finally {
      await rbac.deleteClusterRoleBinding({ name }).catch(() => {});
      await rbac.deleteClusterRole({ name }).catch(() => {});
    }
  });

  it('does server-side apply with field managers and reports conflicts', async () => {
    const doc = (value: string) => `
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
  namespace: ${ns}
data:
  shared: ${value}
---
`;
    const [first] = await applyYaml(admin, doc('from-a'), 'manager-a');
    expect((first as V1ConfigMap).data).toEqual({ shared: 'from-a' });
    const managers = first?.metadata?.managedFields?.map((f) => [f.manager, f.operation]);
    expect(managers).toContainEqual(['manager-a', 'Apply']);

    // Re-applying as the same manager is fine.
    await applyYaml(admin, doc('from-a-again'), 'manager-a');

    // Another manager setting the same field to another value: 409 Conflict.
    let conflict: unknown;
    try {
      await applyYaml(admin, doc('from-b'), 'manager-b');
    } catch (err) {
      conflict = err;
    }
    expect(apiStatus(conflict)).toBe(409);
    expect(apiStatusBody(conflict)?.message).toMatch(/conflict.*manager-a/is);

    // With force it takes the field over.
    const [forced] = await applyYaml(admin, doc('from-b'), 'manager-b', { force: true });
    expect((forced as V1ConfigMap).data).toEqual({ shared: 'from-b' });
    const owners = forced?.metadata?.managedFields?.map((f) => f.manager);
    expect(owners).toContain('manager-b');
    expect(owners).not.toContain('manager-a');
  });

  it('applies into a default namespace given to applyYaml', async () => {
    const [obj] = await applyYaml(admin, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: defaulted}\ndata: {k: v}\n', 'manager-c', {
      namespace: ns,
    });
    expect(obj?.metadata?.namespace).toBe(ns);
  });

  it('reports a clear timeout from waitFor', async () => {
    await expect(
      waitFor(() => false, { timeoutMs: 300, intervalMs: 50, description: 'something that never happens' }),
    ).rejects.toThrow(/Timed out after 300 ms .*waiting for something that never happens\.\nLast value: false/);
  });
});
