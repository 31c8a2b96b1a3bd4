/**
 * Where the operator's cluster credentials come from, decided before
 * client-node loads them: `loadFromDefault()` quietly falls back to
 * http://localhost:8080 when it finds nothing, and the operator then fails
 * with client-node's misleading "HTTP protocol is not allowed when
 * skipTLSVerify is not set or false". Pure: the environment and a file
 * check in, a source or what is missing out.
 */
import path from 'node:path';

export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type KubeconfigSource =
  | { kind: 'file'; path: string; from: '--kubeconfig' | '$KUBECONFIG' | '~/.kube/config' }
  | { kind: 'in-cluster' }
  | { kind: 'none'; problem: string };

export function kubeconfigSource(flag: string | undefined, env: NodeJS.ProcessEnv, exists: (file: string) => boolean): KubeconfigSource {
  if (flag) return exists(flag) ? { kind: 'file', path: flag, from: '--kubeconfig' } : { kind: 'none', problem: `--kubeconfig ${flag}: no such file` };
  if (env.KUBECONFIG) {
    // client-node reads the first file of the list that exists.
    const files = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const found = files.find(exists);
    return found ? { kind: 'file', path: found, from: '$KUBECONFIG' } : { kind: 'none', problem: `$KUBECONFIG names no file that exists (${files.join(', ')})` };
  }
  const inPod = Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT);
  if (inPod && exists(SERVICE_ACCOUNT_TOKEN)) return { kind: 'in-cluster' };
  const home = env.HOME ? path.join(env.HOME, '.kube', 'config') : undefined;
  if (home && exists(home)) return { kind: 'file', path: home, from: '~/.kube/config' };
  const missing = inPod
    ? `running in a pod, but it has no ServiceAccount token at ${SERVICE_ACCOUNT_TOKEN} (is automountServiceAccountToken false on the operator's pod or ServiceAccount?)`
    : 'not in a pod (KUBERNETES_SERVICE_HOST is not set)';
  return { kind: 'none', problem: `no cluster credentials: ${missing}, no $KUBECONFIG and no ~/.kube/config; pass --kubeconfig PATH` };
}
