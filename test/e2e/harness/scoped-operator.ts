// An in-process operator running as the unprivileged test user, bound to
// exactly config/rbac in fresh namespaces of its own, and its teardown.
import { startTestOperator, type TestOperator } from '../../../operator/src/testing/e2e-helpers.ts';
import { grantOperatorRbac } from '../../../operator/src/testing/rbac.ts';
import type { OperatorOptions } from '../../../operator/src/operator.ts';
import { adminKubeConfig, createNamespace, deleteNamespace, testUserName, uniqueName, userKubeConfig, waitFor } from './kube.ts';

export interface ScopedOperator {
  op: TestOperator;
  /** The watched namespace. */
  ns: string;
  stop(): Promise<void>;
}

/** Creates namespace `<prefix>-xxxxxx`, grants config/rbac there, starts the operator on it and waits until it leads. */
export async function startScopedOperator(prefix: string, o: Omit<OperatorOptions, 'kubeConfig' | 'log' | 'namespaces' | 'leaseNamespace'> = {}): Promise<ScopedOperator> {
  const admin = adminKubeConfig();
  const ns = await createNamespace(uniqueName(prefix));
  const leaseNs = uniqueName(`${prefix}-lease`);
  const grant = await grantOperatorRbac(admin, userKubeConfig(), { user: testUserName(), suffix: uniqueName(prefix), leaseNamespace: leaseNs, scope: [ns] });
  const op = await startTestOperator(userKubeConfig(), { ...o, namespaces: [ns], leaseNamespace: leaseNs });
  await waitFor(() => op.isLeader(), { description: 'the operator to lead' });
  return {
    op,
    ns,
    async stop() {
      await op.stop();
      await grant.revoke();
      await deleteNamespace(ns);
      await deleteNamespace(leaseNs);
    },
  };
}
