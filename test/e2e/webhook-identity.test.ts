// The injected sidecar gets the pod's cloud identity, through a real
// kube-apiserver, whichever mutating webhook runs first. A stand-in for the
// EKS pod-identity webhook (an HTTPS server in this process, with its own
// MutatingWebhookConfiguration) gives pods whose ServiceAccount carries
// eks.amazonaws.com/role-arn the IRSA env and the projected token volume,
// on the app containers only, as a webhook that knows nothing of our
// sidecar would. The API server calls mutating webhooks in the order of
// their configurations' names: in namespace `first` the stand-in's
// configuration (…-a-…) sorts before ours (…-m-…), so ours copies what it
// finds; in namespace `after` the stand-in's (…-z-…) sorts after ours, and
// ours is called again (reinvocationPolicy: IfNeeded) and patches the
// identity onto its sidecar.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { KubeClient } from '../../operator/src/kube/kube-client.ts';
import { createCertificateAuthority, createServingCertificate } from '../../operator/src/webhook/certs.ts';
import { startWebhook, type WebhookHandle } from '../../operator/src/webhook/start.ts';
import { adminKubeConfig, createNamespace, uniqueName, waitFor } from './harness/kube.ts';
import { apply, one, renderChart, type K8sObject } from './chart-helpers.ts';

const admin = adminKubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const kube = new KubeClient(admin);
const id = uniqueName('whid');
const ROLE = 'arn:aws:iam::111122223333:role/llmroute-bedrock';
const TOKEN_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
const IRSA_ENV = [
  { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
  { name: 'AWS_DEFAULT_REGION', value: 'us-west-2' },
  { name: 'AWS_REGION', value: 'us-west-2' },
  { name: 'AWS_ROLE_ARN', value: ROLE },
  { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${TOKEN_DIR}/token` },
];
const decisions: Array<Record<string, unknown>> = [];
const configs = [`${id}-a-eks-pod-identity`, `${id}-m-llmroute`, `${id}-z-eks-pod-identity`];
let ours: WebhookHandle | undefined;
let standIn: https.Server | undefined;
let first: string;
let after: string;

/** The stand-in's mutation: IRSA env and token mount on each app container, the volume; nothing when the pod has them, or its ServiceAccount no role. */
async function irsaPatch(review: any): Promise<unknown[]> {
  const pod = review.request.object as V1Pod;
  const sa = await core.readNamespacedServiceAccount({ name: pod.spec?.serviceAccountName || 'default', namespace: review.request.namespace }).catch(() => undefined);
  const role = sa?.metadata?.annotations?.['eks.amazonaws.com/role-arn'];
  if (!role || pod.spec!.volumes?.some((v) => v.name === 'aws-iam-token')) return [];
  const containers = pod.spec!.containers.map((c) => ({
    ...c,
    env: [...(c.env ?? []), ...IRSA_ENV.map((e) => (e.name === 'AWS_ROLE_ARN' ? { ...e, value: role } : e))],
    volumeMounts: [...(c.volumeMounts ?? []), { name: 'aws-iam-token', readOnly: true, mountPath: TOKEN_DIR }],
  }));
  const volume = { name: 'aws-iam-token', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }] } };
  return [
    { op: 'replace', path: '/spec/containers', value: containers },
    pod.spec!.volumes ? { op: 'add', path: '/spec/volumes/-', value: volume } : { op: 'add', path: '/spec/volumes', value: [volume] },
  ];
}

function standInConfig(name: string, namespace: string, port: number, caBundle: string): K8sObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      {
        name: 'iam-for-pods.amazonaws.com',
        admissionReviewVersions: ['v1'],
        clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
        failurePolicy: 'Fail',
        sideEffects: 'None',
        reinvocationPolicy: 'Never',
      },
    ],
  } as K8sObject;
}

function pod(name: string): V1Pod {
  return { metadata: { name, labels: { 'llmroute.dev/inject': 'true' } }, spec: { serviceAccountName: 'llm', containers: [{ name: 'app', image: 'app:1', env: [{ name: 'MODE', value: 'e2e' }] }] } };
}

beforeAll(async () => {
  first = await createNamespace(uniqueName('first'));
  after = await createNamespace(uniqueName('after'));
  for (const ns of [first, after]) {
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'llm', annotations: { 'eks.amazonaws.com/role-arn': ROLE } } } });
  }
  const now = new Date();
  const ca = await createCertificateAuthority({ commonName: `${id}-ca`, now, validityMs: 3_600_000 });
  const serving = await createServingCertificate({ ca, dnsNames: [], ipAddresses: ['127.0.0.1'], now, validityMs: 3_600_000 });
  const dir = mkdtempSync(join(tmpdir(), 'llmroute-whid-'));
  writeFileSync(join(dir, 'tls.crt'), serving.certPem);
  writeFileSync(join(dir, 'tls.key'), serving.keyPem);
  const caBundle = Buffer.from(ca.certPem).toString('base64');

  const log = { info: (_m: string, f?: Record<string, unknown>) => void (f && decisions.push(f)), warn() {}, error() {} };
  ours = await startWebhook({ port: 0, host: '127.0.0.1', sidecarImage: 'ghcr.io/llmroute/sidecar:e2e', log, tls: { mode: 'files', certDir: dir } });

  standIn = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const patch = await irsaPatch(review);
        const response = { uid: review.request.uid, allowed: true, ...(patch.length ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') } : {}) };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      })().catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
  });
  await new Promise<void>((resolve) => standIn!.listen(0, '127.0.0.1', resolve));
  const standInPort = (standIn.address() as { port: number }).port;

  const mwc = structuredClone(one(renderChart(id, first), 'MutatingWebhookConfiguration'));
  mwc.metadata = { name: configs[1]! };
  mwc.webhooks[0].clientConfig = { url: `https://127.0.0.1:${ours.port}/mutate-pods`, caBundle };
  mwc.webhooks[0].namespaceSelector = { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [first, after] }] };
  expect(mwc.webhooks[0].reinvocationPolicy).toBe('IfNeeded');
  await apply(admin, mwc);
  await apply(admin, standInConfig(configs[0]!, first, standInPort, caBundle));
  await apply(admin, standInConfig(configs[2]!, after, standInPort, caBundle));
}, 60_000);

afterAll(async () => {
  for (const name of configs) await kube.request('DELETE', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${name}`).catch(() => {});
  await ours?.stop();
  await new Promise<void>((resolve) => (standIn ? standIn.close(() => resolve()) : resolve()));
  kube.close();
});

/** A pod created once both webhooks are in the API server's admission chain (new configurations take a moment to load). */
async function createWithBoth(namespace: string, prefix: string): Promise<V1Pod> {
  let n = 0;
  return waitFor(
    async () => {
      const p = await core.createNamespacedPod({ namespace, body: pod(`${prefix}-${n++}`) });
      const both = p.spec!.initContainers?.some((c) => c.name === 'llmroute-sidecar') && p.spec!.containers[0]!.env?.some((e) => e.name === 'AWS_ROLE_ARN');
      return both ? p : undefined;
    },
    { timeoutMs: 20_000, description: `a pod in ${namespace} through both webhooks` },
  );
}

function expectSidecarIdentity(p: V1Pod): void {
  const sidecar = p.spec!.initContainers!.find((c) => c.name === 'llmroute-sidecar')!;
  expect(sidecar.env).toEqual([
    { name: 'AWS_ROLE_ARN', value: ROLE },
    { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${TOKEN_DIR}/token` },
    { name: 'AWS_REGION', value: 'us-west-2' },
    { name: 'AWS_DEFAULT_REGION', value: 'us-west-2' },
    { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
  ]);
  expect(sidecar.volumeMounts).toEqual([
    { name: 'llmroute', mountPath: '/etc/llmroute', readOnly: true },
    // No ServiceAccount token for the sidecar (issue 15): an empty volume at its path.
    { name: 'llmroute-no-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    { name: 'aws-iam-token', mountPath: TOKEN_DIR, readOnly: true },
  ]);
  expect(p.spec!.volumes!.map((v) => v.name).sort()).toEqual(['aws-iam-token', 'llmroute', 'llmroute-no-token']);
  expect(p.spec!.containers[0]!.env!.map((e) => e.name)).toEqual(expect.arrayContaining(['MODE', 'OPENAI_BASE_URL', 'ANTHROPIC_BASE_URL', ...IRSA_ENV.map((e) => e.name)]));
}

describe('the sidecar gets the IRSA identity whichever webhook runs first', () => {
  it('the identity webhook first: the injection copies its env and token mount', async () => {
    const p = await createWithBoth(first, 'irsa-first');
    expectSidecarIdentity(p);
    const stored = await core.readNamespacedPod({ name: p.metadata!.name!, namespace: first });
    expectSidecarIdentity(stored);
    expect(decisions.filter((d) => d.pod === p.metadata!.name).map((d) => d.reason ?? 'injected')).toEqual(['injected']);
  }, 30_000);

  it('ours first: reinvoked after the identity webhook, ours adds only the identity to its sidecar', async () => {
    const p = await createWithBoth(after, 'irsa-after');
    expectSidecarIdentity(p);
    expect(decisions.filter((d) => d.pod === p.metadata!.name).map((d) => d.reason ?? 'injected')).toEqual(['injected', 'identity-added']);
  }, 30_000);
});
