import { describe, expect, it } from '@jest/globals';
import { kubeconfigSource, SERVICE_ACCOUNT_TOKEN } from './kubeconfig-source.ts';

const files = (...present: string[]) => (f: string) => present.includes(f);

describe('kubeconfigSource', () => {
  it('takes --kubeconfig first, then $KUBECONFIG (first file that exists), then the pod, then ~/.kube/config', () => {
    const env = { KUBECONFIG: '/a:/b', KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', HOME: '/root' };
    expect(kubeconfigSource('/flag', env, files('/flag', '/b'))).toEqual({ kind: 'file', path: '/flag', from: '--kubeconfig' });
    expect(kubeconfigSource(undefined, env, files('/b', SERVICE_ACCOUNT_TOKEN))).toEqual({ kind: 'file', path: '/b', from: '$KUBECONFIG' });
    const { KUBECONFIG: _, ...inPod } = env;
    expect(kubeconfigSource(undefined, inPod, files(SERVICE_ACCOUNT_TOKEN, '/root/.kube/config'))).toEqual({ kind: 'in-cluster' });
    expect(kubeconfigSource(undefined, { HOME: '/root' }, files('/root/.kube/config'))).toEqual({ kind: 'file', path: '/root/.kube/config', from: '~/.kube/config' });
  });

  it('says what is missing instead of falling back to http://localhost:8080', () => {
    expect(kubeconfigSource('/nope', {}, files())).toEqual({ kind: 'none', problem: '--kubeconfig /nope: no such file' });
    expect(kubeconfigSource(undefined, { KUBECONFIG: '/x:/y' }, files())).toEqual({ kind: 'none', problem: '$KUBECONFIG names no file that exists (/x, /y)' });
    const notInPod = kubeconfigSource(undefined, { HOME: '/root' }, files());
    expect(notInPod).toEqual({ kind: 'none', problem: 'no cluster credentials: not in a pod (KUBERNETES_SERVICE_HOST is not set), no $KUBECONFIG and no ~/.kube/config; pass --kubeconfig PATH' });
    const noToken = kubeconfigSource(undefined, { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, files());
    expect(noToken.kind === 'none' && noToken.problem).toMatch(/running in a pod, but it has no ServiceAccount token at \/var\/run\/secrets\/kubernetes.io\/serviceaccount\/token \(is automountServiceAccountToken false/);
  });
});
