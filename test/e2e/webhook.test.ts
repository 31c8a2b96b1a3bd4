// The injection webhook through a real kube-apiserver: the operator's webhook
// runs in this process as the unprivileged test user bound to exactly the
// chart's rendered webhook RBAC, makes its CA and serving certificate, stores
// them in the Secret and writes the caBundle into the chart's
// MutatingWebhookConfiguration (pointed at https://127.0.0.1:PORT instead of
// the Service: nothing routes Services here). Then real pod creations go
// through the API server's admission chain. Pods stay Pending (no kubelet):
// what is checked is the pod the API server stored.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { KubeClient } from '../../operator/src/kube/kube-client.ts';
import { startWebhook, type WebhookHandle } from '../../operator/src/webhook/start.ts';
import { adminKubeConfig, apiStatusBody, createNamespace, testUserName, uniqueName, userKubeConfig, waitFor } from './harness/kube.ts';
import { apply, one, renderChart, type K8sObject } from './chart-helpers.ts';

const admin = adminKubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const IMAGE = 'ghcr.io/llmroute/sidecar:e2e';
const id = uniqueName('wh');
const release = id; // fullname = release (holds no "llmroute"): "<id>-llmroute"
const noLogs = { info() {}, warn() {}, error() {} };

let releaseNs: string;
let appNs: string;
let objs: K8sObject[];
let port: number;
let webhook: WebhookHandle | undefined;
const clients: KubeClient[] = [];
const handles: WebhookHandle[] = [];

function userClient(): KubeClient {
  return track(new KubeClient(userKubeConfig()));
}

function adminClient(): KubeClient {
  return track(new KubeClient(admin));
}

function track(c: KubeClient): KubeClient {
  clients.push(c);
  return c;
}

/** The chart's webhook RBAC, bound to the test user instead of the ServiceAccount. */
async function bindChartRbacToTestUser(): Promise<void> {
  const user = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: testUserName() }];
  for (const o of objs) {
    if (o.kind === 'Role' && o.metadata.name.endsWith('-self')) await apply(admin, o);
    if (o.kind === 'RoleBinding' && o.metadata.name.endsWith('-self')) await apply(admin, { ...o, subjects: user });
    if (o.kind === 'ClusterRole' && o.metadata.name.endsWith('-webhook')) await apply(admin, o);
    if (o.kind === 'ClusterRoleBinding' && o.metadata.name.endsWith('-webhook')) await apply(admin, { ...o, subjects: user });
  }
}

const webhookURL = (p: number): string => `https://127.0.0.1:${p}/mutate-pods`;

/**
 * Points the webhook configuration at the server on port `p` (a JSON patch of the URL alone: the
 * caBundle the webhook wrote stays). The server listens on port 0 and says which it got.
 */
async function pointWebhookAt(p: number): Promise<void> {
  await adminClient().request('PATCH', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${release}-llmroute`, {
    body: [{ op: 'replace', path: '/webhooks/0/clientConfig/url', value: webhookURL(p) }],
    contentType: 'application/json-patch+json',
  });
}

function pod(name: string, o: { labelled?: boolean; annotations?: Record<string, string> } = {}): V1Pod {
  return {
    metadata: { name, labels: { app: 'web', ...(o.labelled === false ? {} : { 'llmroute.dev/inject': 'true' }) }, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: { containers: [{ name: 'web', image: 'web:1', env: [{ name: 'MODE', value: 'e2e' }] }] },
  };
}

function servedCertificate(p: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: p, rejectUnauthorized: false }, () => {
      resolve(new X509Certificate(s.getPeerCertificate(false).raw));
      s.end();
    });
    s.on('error', reject);
  });
}

beforeAll(async () => {
  releaseNs = await createNamespace(uniqueName('llmroute-system'));
  appNs = await createNamespace(uniqueName('shop'));
  // Confine this file's webhook to its own namespaces: other suites share the cluster.
  for (const ns of [releaseNs, appNs]) await core.patchNamespace({ name: ns, body: [{ op: 'add', path: '/metadata/labels/llmroute-e2e-webhook', value: id }] });
  objs = renderChart(release, releaseNs);
  await bindChartRbacToTestUser();

  // The configuration first (the webhook writes its caBundle there), at a port nothing listens on
  // until the webhook is up and the URL is patched to its own.
  const mwc = structuredClone(one(objs, 'MutatingWebhookConfiguration'));
  mwc.webhooks[0].clientConfig = { url: webhookURL(1) };
  mwc.webhooks[0].namespaceSelector.matchLabels = { 'llmroute-e2e-webhook': id };
  await apply(admin, mwc);

  webhook = await startWebhook({
    port: 0,
    host: '127.0.0.1',
    sidecarImage: IMAGE,
    log: noLogs,
    tls: {
      mode: 'managed',
      kube: userClient(),
      namespace: releaseNs,
      serviceName: `${release}-llmroute-webhook`,
      secretName: `${release}-llmroute-webhook-tls`,
      webhookConfigName: `${release}-llmroute`,
      ipAddresses: ['127.0.0.1'],
      intervalMs: 300,
    },
  });
  handles.push(webhook);
  port = webhook.port;
  await pointWebhookAt(port);
});

afterAll(async () => {
  // failurePolicy Fail: remove the configuration before the server goes.
  await adminClient().request('DELETE', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${release}-llmroute`).catch(() => {});
  for (const h of handles) await h.stop();
  for (const c of clients) c.close();
});

describe('injection webhook, through the API server', () => {
  it('the operator (as the chart’s RBAC allows) stored its certificate and wrote the caBundle', async () => {
    const secret = await core.readNamespacedSecret({ name: `${release}-llmroute-webhook-tls`, namespace: releaseNs });
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const mwc = (await adminClient().request<K8sObject>('GET', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${release}-llmroute`)) as K8sObject;
    expect(mwc.webhooks[0].clientConfig.caBundle).toBe(secret.data!['ca.crt']);
    const served = await servedCertificate(port);
    expect(served.fingerprint256).toBe(new X509Certificate(Buffer.from(secret.data!['tls.crt']!, 'base64')).fingerprint256);
    expect(served.checkHost(`${release}-llmroute-webhook.${releaseNs}.svc`)).toBeTruthy();
  });

  it('a labelled pod is stored with the sidecar, the volume, the env and the annotations', async () => {
    const created = await core.createNamespacedPod({ namespace: appNs, body: pod('injected') });
    const stored = await core.readNamespacedPod({ name: 'injected', namespace: appNs });
    for (const p of [created, stored]) {
      const init = p.spec!.initContainers!;
      expect(init.map((c) => c.name)).toEqual(['llmroute-sidecar']);
      expect(init[0]).toMatchObject({
        image: IMAGE,
        restartPolicy: 'Always',
        args: ['--config', '/etc/llmroute/config.yaml'],
        ports: [{ name: 'llmroute-admin', containerPort: 4001, protocol: 'TCP' }],
        volumeMounts: [
          { name: 'llmroute', mountPath: '/etc/llmroute', readOnly: true },
          // issue 15, point 6: a mount at the token's path, so the ServiceAccount plugin's second pass skips the sidecar
          { name: 'llmroute-no-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
        ],
        securityContext: { runAsNonRoot: true, runAsUser: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
      });
      expect(p.spec!.volumes!.find((v) => v.name === 'llmroute-no-token')).toEqual({ name: 'llmroute-no-token', emptyDir: { medium: 'Memory', sizeLimit: '1Ki' } });
      expect(init[0]!.startupProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'llmroute-admin' });
      expect(p.spec!.volumes!.find((v) => v.name === 'llmroute')?.projected?.sources).toEqual([
        { configMap: { name: 'llmroute-config' } },
        { secret: { name: 'llmroute-credentials', optional: true } },
      ]);
      expect(p.spec!.containers[0]!.env).toEqual([
        { name: 'MODE', value: 'e2e' },
        { name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:4000/v1' },
        { name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:4000' },
      ]);
      expect(p.metadata!.annotations).toMatchObject({ 'llmroute.dev/status': 'injected', 'prometheus.io/port': '4001' });
    }
  });

  it('per-pod annotations apply', async () => {
    const p = await core.createNamespacedPod({
      namespace: appNs,
      body: pod('tuned', { annotations: { 'llmroute.dev/port': '5000', 'llmroute.dev/memory-limit': '512Mi', 'llmroute.dev/log-level': 'debug' } }),
    });
    expect(p.spec!.initContainers![0]!.args).toEqual(['--config', '/etc/llmroute/config.yaml', '--port', '5000', '--log-level', 'debug']);
    expect(p.spec!.initContainers![0]!.resources?.limits).toEqual({ memory: '512Mi' });
    expect(p.spec!.containers[0]!.env).toContainEqual({ name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:5000/v1' });
    expect(p.spec!.containers[0]!.env).toContainEqual({ name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:5000' });
  });

  it('a bad annotation is denied with the webhook’s message', async () => {
    let message = '';
    try {
      await core.createNamespacedPod({ namespace: appNs, body: pod('bad', { annotations: { 'llmroute.dev/cpu-request': 'lots' } }) });
    } catch (err) {
      message = apiStatusBody(err)?.message ?? '';
    }
    expect(message).toContain('admission webhook "inject.llmroute.dev" denied the request');
    expect(message).toContain('annotation llmroute.dev/cpu-request: "lots" is not a positive Kubernetes quantity');
  });

  it('an unlabelled pod, and a labelled pod in the release namespace, are untouched', async () => {
    const plain = await core.createNamespacedPod({ namespace: appNs, body: pod('plain', { labelled: false }) });
    expect(plain.spec!.initContainers ?? []).toEqual([]);
    expect(plain.metadata!.annotations?.['llmroute.dev/status']).toBeUndefined();
    const excluded = await core.createNamespacedPod({ namespace: releaseNs, body: pod('excluded') });
    expect(excluded.spec!.initContainers ?? []).toEqual([]);
    expect(excluded.spec!.containers[0]!.env).toEqual([{ name: 'MODE', value: 'e2e' }]);
  });

  it('a second replica serves the certificate from the shared Secret', async () => {
    const second = await startWebhook({
      port: 0,
      host: '127.0.0.1',
      sidecarImage: IMAGE,
      log: noLogs,
      tls: { mode: 'managed', kube: userClient(), namespace: releaseNs, serviceName: `${release}-llmroute-webhook`, secretName: `${release}-llmroute-webhook-tls`, webhookConfigName: `${release}-llmroute`, ipAddresses: ['127.0.0.1'] },
    });
    handles.push(second);
    expect((await servedCertificate(second.port)).fingerprint256).toBe((await servedCertificate(port)).fingerprint256);
  });

  it('without the chart’s RBAC (another Secret name) the webhook does not start', async () => {
    await expect(
      startWebhook({
        port: 0,
        host: '127.0.0.1',
        sidecarImage: IMAGE,
        log: noLogs,
        tls: { mode: 'managed', kube: userClient(), namespace: releaseNs, secretName: 'not-allowed-tls', webhookConfigName: `${release}-llmroute`, startTimeoutMs: 500 },
      }),
    ).rejects.toMatchObject({ code: 'webhook_start', message: expect.stringMatching(/forbidden/i) });
  }, 30_000);

  it('rotates a short-lived serving certificate; pods keep being injected', async () => {
    const secretName = `${release}-llmroute-webhook-tls`;
    // Restart the webhook with a 6 s certificate renewed when < 4 s are left.
    // The stored one has a year left, which that policy keeps: start afresh.
    await webhook!.stop();
    await core.deleteNamespacedSecret({ name: secretName, namespace: releaseNs });
    webhook = await startWebhook({
      port: 0,
      host: '127.0.0.1',
      sidecarImage: IMAGE,
      log: noLogs,
      tls: {
        mode: 'managed', kube: userClient(), namespace: releaseNs, serviceName: `${release}-llmroute-webhook`, secretName, webhookConfigName: `${release}-llmroute`,
        ipAddresses: ['127.0.0.1'], validityMs: 6_000, renewBeforeMs: 4_000, intervalMs: 250,
      },
    });
    handles.push(webhook);
    port = webhook.port;
    await pointWebhookAt(port);
    const first = (await servedCertificate(port)).fingerprint256;
    const rotated = await waitFor(async () => {
      const now = await servedCertificate(port);
      return now.fingerprint256 !== first ? now : undefined;
    }, { timeoutMs: 15_000, description: 'a renewed serving certificate' });
    expect(Date.parse(rotated.validTo) - Date.now()).toBeGreaterThan(3_000);
    const secret = await core.readNamespacedSecret({ name: secretName, namespace: releaseNs });
    const stored = new X509Certificate(Buffer.from(secret.data!['tls.crt']!, 'base64'));
    expect(stored.fingerprint256).toBe(rotated.fingerprint256);
    const p = await core.createNamespacedPod({ namespace: appNs, body: pod('after-rotation') });
    expect(p.spec!.initContainers![0]!.name).toBe('llmroute-sidecar');
  }, 60_000);
});
