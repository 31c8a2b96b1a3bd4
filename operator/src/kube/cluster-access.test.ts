import { inClusterAccess, kubeconfigAccess } from './cluster-access.ts';
import { requestKind } from './paths.ts';

const files: Record<string, string> = {
  '/etc/kube/ca.pem': 'CA-FROM-FILE',
  '/etc/kube/token': 'tok-from-file\n',
  '/sa/ca.crt': 'SA-CA',
  '/sa/token': 'sa-token\n',
};
const read = (f: string) => {
  if (!(f in files)) throw new Error(`ENOENT: ${f}`);
  return Buffer.from(files[f]!);
};
const kubeconfig = (cluster: string, user: string) => `
apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: ${cluster}}]
users: [{name: u, user: ${user}}]
`;

async function headersOf(r: ReturnType<typeof kubeconfigAccess>) {
  if (!('access' in r)) throw new Error(JSON.stringify(r));
  const h: Record<string, string> = {};
  await r.access.authorize(h);
  return { h, tls: await r.access.tls(), server: r.access.server };
}

describe('kubeconfigAccess', () => {
  it('reads a token, CA data and the server', async () => {
    const ca = Buffer.from('CA-DATA').toString('base64');
    const { h, tls, server } = await headersOf(kubeconfigAccess(kubeconfig(`{server: "https://1.2.3.4:6443", certificate-authority-data: ${ca}}`, '{token: abc}'), '/etc/kube/config', read));
    expect(server).toBe('https://1.2.3.4:6443');
    expect(h.authorization).toBe('Bearer abc');
    expect(tls.ca?.toString()).toBe('CA-DATA');
    expect(tls.rejectUnauthorized).toBeUndefined();
  });

  it('resolves relative files against the kubeconfig folder; a token file and client certificates', async () => {
    const cert = Buffer.from('CERT').toString('base64');
    const key = Buffer.from('KEY').toString('base64');
    const { h, tls } = await headersOf(
      kubeconfigAccess(
        kubeconfig('{server: "https://x", certificate-authority: ca.pem, tls-server-name: api.local}', `{tokenFile: token, client-certificate-data: ${cert}, client-key-data: ${key}}`),
        '/etc/kube/config',
        read,
      ),
    );
    expect(h.authorization).toBe('Bearer tok-from-file');
    expect(tls).toMatchObject({ servername: 'api.local' });
    expect([tls.ca?.toString(), tls.cert?.toString(), tls.key?.toString()]).toEqual(['CA-FROM-FILE', 'CERT', 'KEY']);
  });

  it('basic auth, and plain HTTP only with TLS verification off', async () => {
    const { h, tls } = await headersOf(kubeconfigAccess(kubeconfig('{server: "http://127.0.0.1:8080", insecure-skip-tls-verify: true}', '{username: a, password: b}'), '/k', read));
    expect(h.authorization).toBe(`Basic ${Buffer.from('a:b').toString('base64')}`);
    expect(tls.rejectUnauthorized).toBe(false);
    expect(kubeconfigAccess(kubeconfig('{server: "http://127.0.0.1:8080"}', '{token: t}'), '/k', read)).toEqual({ problem: expect.stringMatching(/insecure-skip-tls-verify/) });
  });

  it('sends exec plugins, auth providers and proxies to client-node', () => {
    expect(kubeconfigAccess(kubeconfig('{server: "https://x"}', '{exec: {command: aws}}'), '/k', read)).toEqual({ unsupported: 'exec' });
    expect(kubeconfigAccess(kubeconfig('{server: "https://x", proxy-url: "http://p"}', '{auth-provider: {name: oidc}}'), '/k', read)).toEqual({ unsupported: 'proxy-url, auth-provider' });
  });

  it('says what is missing', () => {
    expect(kubeconfigAccess('apiVersion: v1', '/k', read)).toEqual({ problem: 'no current-context' });
    expect(kubeconfigAccess(kubeconfig('{}', '{}'), '/k', read)).toEqual({ problem: 'no current cluster' });
    expect(kubeconfigAccess(kubeconfig('{server: "https://x", certificate-authority: nope.pem}', '{}'), '/k', read)).toEqual({ problem: expect.stringMatching(/ENOENT/) });
    expect(kubeconfigAccess(': : :', '/k', read)).toEqual({ problem: expect.stringMatching(/^not YAML/) });
  });
});

describe('inClusterAccess', () => {
  it('uses the service host and port, the ServiceAccount CA and token', async () => {
    const a = inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, read, '/sa');
    expect(a.server).toBe('https://[fd00::1]:443');
    const h: Record<string, string> = {};
    await a.authorize(h);
    expect(h.authorization).toBe('Bearer sa-token');
    expect((await a.tls()).ca?.toString()).toBe('SA-CA');
  });
});

describe('requestKind', () => {
  it.each([
    ['GET', '/api/v1/secrets', {}, 'list', 'secrets'],
    ['GET', '/api/v1/namespaces/a/secrets', { watch: true }, 'watch', 'secrets'],
    ['GET', '/api/v1/namespaces/a/secrets/k', {}, 'get', 'secrets'],
    ['GET', '/api/v1/namespaces', {}, 'list', 'namespaces'],
    ['GET', '/api/v1/namespaces/a', {}, 'get', 'namespaces'],
    ['GET', '/apis/llmroute.dev/v1alpha1/llmroutes', {}, 'list', 'llmroutes'],
    ['PATCH', '/apis/llmroute.dev/v1alpha1/namespaces/a/llmroutes/r/status', { contentType: 'application/apply-patch+yaml' }, 'apply', 'llmroutes/status'],
    ['PATCH', '/api/v1/namespaces/a/configmaps/c', { contentType: 'application/merge-patch+json' }, 'patch', 'configmaps'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/s/leases/l', {}, 'update', 'leases'],
    ['POST', '/api/v1/namespaces/a/events', {}, 'create', 'events'],
    ['DELETE', '/api/v1/namespaces/a/secrets/k', {}, 'delete', 'secrets'],
  ] as const)('%s %s', (method, path, o, verb, resource) => {
    expect(requestKind(method, path, o)).toEqual({ verb, resource });
  });
});
