/**
 * For e2e tests: grants a user exactly the rules of config/rbac (the
 * ClusterRole and the leader-election Role), under names of its own so that
 * test files running side by side do not undo each other's grants, and
 * waits until the API server enforces them.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import yaml from 'js-yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../kube/kube-client.ts';
import { KubeApiError } from '../errors.ts';

const RBAC_DIR = new URL('../../../config/rbac/', import.meta.url);

interface RbacDoc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules: unknown[];
}

/** The ClusterRole and Role documents of config/rbac. */
export function operatorRbacDocs(): { clusterRole: RbacDoc; leaderRole: RbacDoc } {
  const load = (f: string) => yaml.load(readFileSync(new URL(f, RBAC_DIR), 'utf8')) as RbacDoc;
  const clusterRole = load('role.yaml');
  const leaderRole = load('leader-election-role.yaml');
  if (clusterRole.kind !== 'ClusterRole' || leaderRole.kind !== 'Role') throw new Error('config/rbac: unexpected kinds');
  return { clusterRole, leaderRole };
}

export interface GrantOptions {
  /** The user to bind (e.g. llmroute-operator-test). */
  user: string;
  /** A unique suffix for the role and binding names. */
  suffix: string;
  /** Namespace of the leader-election Lease (created if missing). */
  leaseNamespace: string;
  /** 'cluster': a ClusterRoleBinding; else RoleBindings of the ClusterRole in these namespaces. */
  scope: 'cluster' | string[];
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

export interface OperatorGrant {
  /** Deletes every role and binding made. */
  revoke(): Promise<void>;
  /** Deletes the RoleBinding in one namespace (an RBAC outage); resolves to a function that puts it back. */
  suspend(namespace: string): Promise<() => Promise<void>>;
}

/** Grants, waits until effective, and returns the grant. */
export async function grantOperatorRbac(admin: KubeConfig, userKc: KubeConfig, o: GrantOptions): Promise<OperatorGrant> {
  const client = new KubeClient(admin);
  const { clusterRole, leaderRole } = operatorRbacDocs();
  const roleName = `${clusterRole.metadata.name}-${o.suffix}`;
  const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: o.user }];
  const created: string[] = [];
  const bindings = new Map<string, { path: string; body: object }>();
  const create = async (path: string, body: object) => {
    await client.request('POST', path, { body });
    created.push(`${path}/${(body as { metadata: { name: string } }).metadata.name}`);
  };
  try {
    await client.request('POST', '/api/v1/namespaces', { body: { metadata: { name: o.leaseNamespace } } }).catch((err) => {
      if (!(err instanceof KubeApiError && err.conflict)) throw err;
    });
    await create(`${RBAC}/clusterroles`, { metadata: { name: roleName }, rules: clusterRole.rules });
    const ref = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName };
    if (o.scope === 'cluster') {
      await create(`${RBAC}/clusterrolebindings`, { metadata: { name: roleName }, roleRef: ref, subjects });
    } else {
      for (const ns of o.scope) {
        const binding = { path: `${RBAC}/namespaces/${ns}/rolebindings`, body: { metadata: { name: roleName, namespace: ns }, roleRef: ref, subjects } };
        bindings.set(ns, binding);
        await create(binding.path, binding.body);
      }
    }
    const leaderName = `${leaderRole.metadata.name}-${o.suffix}`;
    await create(`${RBAC}/namespaces/${o.leaseNamespace}/roles`, { metadata: { name: leaderName, namespace: o.leaseNamespace }, rules: leaderRole.rules });
    await create(`${RBAC}/namespaces/${o.leaseNamespace}/rolebindings`, {
      metadata: { name: leaderName, namespace: o.leaseNamespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: leaderName },
      subjects,
    });
    await waitUntilAllowed(userKc, o);
  } finally {
    client.close();
  }
  const withClient = async <T>(f: (c: KubeClient) => Promise<T>): Promise<T> => {
    const c = new KubeClient(admin);
    try {
      return await f(c);
    } finally {
      c.close();
    }
  };
  return {
    revoke: () =>
      withClient(async (c) => {
        for (const path of created.reverse()) await c.request('DELETE', path).catch(() => {});
      }),
    suspend: async (ns) => {
      const binding = bindings.get(ns);
      if (!binding) throw new Error(`no RoleBinding in ${ns}`);
      await withClient((c) => c.request('DELETE', `${binding.path}/${roleName}`));
      return () => withClient(async (c) => void (await c.request('POST', binding.path, { body: binding.body })));
    },
  };
}

/** The RBAC authorizer learns of new bindings through an informer: poll as the user. */
async function waitUntilAllowed(userKc: KubeConfig, o: GrantOptions): Promise<void> {
  const user = new KubeClient(userKc);
  const listPath = o.scope === 'cluster' ? '/apis/llmroute.dev/v1alpha1/llmroutes' : `/apis/llmroute.dev/v1alpha1/namespaces/${o.scope[0]}/llmroutes`;
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      const ok = await Promise.all([
        user.request('GET', listPath, { query: { limit: 1 } }).then(() => true, () => false),
        user.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${o.leaseNamespace}/leases/llmroute-operator`).then(
          () => true,
          (err) => err instanceof KubeApiError && err.notFound,
        ),
      ]);
      if (ok.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`RBAC for ${o.user} did not take effect within 20 s`);
      await sleep(100);
    }
  } finally {
    user.close();
  }
}
