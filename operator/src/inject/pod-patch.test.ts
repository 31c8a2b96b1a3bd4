import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { applyJsonPatch } from './json-patch.ts';
import { InjectionError } from './errors.ts';
import { buildPodPatch, type PodPatchResult } from './pod-patch.ts';

const IMAGE = 'ghcr.io/llmroute/sidecar:0.1.0';
const options = { image: IMAGE };

function pod(extra: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: Partial<NonNullable<V1Pod['spec']>> } = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'app',
      namespace: 'shop',
      labels: { app: 'shop', 'llmroute.dev/inject': 'true', ...extra.labels },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: { containers: [{ name: 'app', image: 'shop:1' }], ...extra.spec },
  };
}

function patched(p: V1Pod, o = options): { result: Extract<PodPatchResult, { action: 'patch' }>; pod: V1Pod } {
  const result = buildPodPatch(p, o);
  if (result.action !== 'patch') throw new Error(`expected a patch, got ${result.action}`);
  return { result, pod: applyJsonPatch(p, result.patch) };
}

function denial(p: V1Pod): InjectionError {
  try {
    buildPodPatch(p, options);
  } catch (err) {
    if (err instanceof InjectionError) return err;
    throw err;
  }
  throw new Error('expected an InjectionError');
}

describe('buildPodPatch', () => {
  it('plain pod: the native sidecar, the volume, the env and the annotations', () => {
    const p = pod();
    const { result, pod: out } = patched(p);
    expect(result.patch).toMatchSnapshot();
    expect(result.warnings).toEqual([]);
    const sidecar = out.spec!.initContainers![0]!;
    expect(sidecar.name).toBe('llmroute-sidecar');
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.args).toEqual(['--config', '/etc/llmroute/config.yaml']);
    expect(sidecar.startupProbe?.httpGet?.path).toBe('/readyz');
    // the CPU request from bench/cpu-per-request.ts (issue 15, point 10): about 100 req/s; no CPU limit
    expect(sidecar.resources).toEqual({ requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '1536Mi' } });
    expect(sidecar.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(sidecar.volumeMounts).toEqual([
      { name: 'llmroute', mountPath: '/etc/llmroute', readOnly: true },
      { name: 'llmroute-no-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ]);
    expect(out.spec!.volumes).toEqual([
      {
        name: 'llmroute',
        projected: { sources: [{ configMap: { name: 'llmroute-config' } }, { secret: { name: 'llmroute-credentials', optional: true } }] },
      },
      { name: 'llmroute-no-token', emptyDir: { medium: 'Memory', sizeLimit: '1Ki' } },
    ]);
    expect(out.spec!.containers[0]!.env).toEqual([{ name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:4000/v1' }, { name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:4000' }]);
    expect(out.metadata!.annotations).toEqual({
      'llmroute.dev/status': 'injected',
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '4001',
      'prometheus.io/path': '/metrics',
    });
  });

  it('pod with initContainers: the sidecar goes first', () => {
    const p = pod({ spec: { initContainers: [{ name: 'migrate', image: 'shop:1' }, { name: 'warm', image: 'shop:1' }] } });
    const { result, pod: out } = patched(p);
    expect(result.patch).toMatchSnapshot();
    expect(out.spec!.initContainers!.map((c) => c.name)).toEqual(['llmroute-sidecar', 'migrate', 'warm']);
  });

  it('existing volumes, env and annotations are kept; JSON pointers escape / and ~', () => {
    const p = pod({
      annotations: { 'team.example.com/owner~x': 'ai' },
      spec: {
        volumes: [{ name: 'data', emptyDir: {} }],
        containers: [{ name: 'app', image: 'shop:1', env: [{ name: 'MODE', value: 'prod' }] }],
      },
    });
    const { result, pod: out } = patched(p);
    expect(result.patch).toMatchSnapshot();
    expect(result.patch.map((o) => o.path)).toContain('/metadata/annotations/llmroute.dev~1status');
    expect(out.spec!.volumes!.map((v) => v.name)).toEqual(['data', 'llmroute', 'llmroute-no-token']);
    expect(out.spec!.containers[0]!.env).toEqual([
      { name: 'MODE', value: 'prod' },
      { name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:4000/v1' },
      { name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:4000' },
    ]);
    expect(out.metadata!.annotations).toMatchObject({ 'team.example.com/owner~x': 'ai', 'llmroute.dev/status': 'injected' });
  });

  it('pod without env on any container: every app container gets an env list', () => {
    const p = pod({ spec: { containers: [{ name: 'web', image: 'w:1' }, { name: 'worker', image: 'k:1' }] } });
    const { result, pod: out } = patched(p);
    expect(result.patch).toMatchSnapshot();
    for (const c of out.spec!.containers) expect(c.env).toEqual([{ name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:4000/v1' }, { name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:4000' }]);
  });

  it('OPENAI_BASE_URL or ANTHROPIC_BASE_URL already set: left as it is, the other one added', () => {
    const p = pod({
      spec: {
        containers: [
          { name: 'web', image: 'w:1', env: [{ name: 'OPENAI_BASE_URL', value: 'http://elsewhere/v1' }] },
          { name: 'worker', image: 'k:1', envFrom: [{ configMapRef: { name: 'settings' } }] },
          { name: 'claude', image: 'c:1', env: [{ name: 'ANTHROPIC_BASE_URL', value: 'https://api.anthropic.com' }] },
        ],
      },
    });
    const { result, pod: out } = patched(p);
    expect(result.patch).toMatchSnapshot();
    expect(out.spec!.containers[0]!.env).toEqual([{ name: 'OPENAI_BASE_URL', value: 'http://elsewhere/v1' }, { name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:4000' }]);
    expect(out.spec!.containers[2]!.env).toEqual([{ name: 'ANTHROPIC_BASE_URL', value: 'https://api.anthropic.com' }, { name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:4000/v1' }]);
    expect(out.spec!.containers[1]!.env).toEqual([{ name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:4000/v1' }, { name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:4000' }]);
    expect(result.warnings).toEqual([expect.stringContaining('container worker: OPENAI_BASE_URL'), expect.stringContaining('container worker: ANTHROPIC_BASE_URL')]);
  });

  it('custom annotations: ports, image, log level and resources', () => {
    const p = pod({
      annotations: {
        'llmroute.dev/port': '5000',
        'llmroute.dev/admin-port': '5001',
        'llmroute.dev/image': 'registry.local:5000/llmroute/sidecar@sha256:' + 'a'.repeat(64),
        'llmroute.dev/log-level': 'debug',
        'llmroute.dev/cpu-request': '100m',
        'llmroute.dev/memory-request': '128Mi',
        'llmroute.dev/memory-limit': '1Gi',
        'prometheus.io/scrape': 'false',
      },
    });
    const { result, pod: out } = patched(p);
    expect(result.patch).toMatchSnapshot();
    const sidecar = out.spec!.initContainers![0]!;
    expect(sidecar.args).toEqual(['--config', '/etc/llmroute/config.yaml', '--port', '5000', '--admin-port', '5001', '--log-level', 'debug']);
    expect(sidecar.ports).toEqual([{ name: 'llmroute-admin', containerPort: 5001, protocol: 'TCP' }]);
    expect(sidecar.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } });
    expect(out.spec!.containers[0]!.env).toEqual([{ name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:5000/v1' }, { name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:5000' }]);
    // The pod's own prometheus.io/* annotations win: none are added.
    expect(out.metadata!.annotations!['prometheus.io/port']).toBeUndefined();
  });

  it('bad annotations: denied with every problem named', () => {
    const err = denial(
      pod({
        annotations: {
          'llmroute.dev/port': '70000',
          'llmroute.dev/admin-port': 'http',
          'llmroute.dev/image': 'bad image',
          'llmroute.dev/log-level': 'verbose',
          'llmroute.dev/cpu-request': 'lots',
          'llmroute.dev/memory-request': '-1Mi',
          'llmroute.dev/memory-limit': '0',
        },
      }),
    );
    expect(err.code).toBe('inject_invalid_annotation');
    expect(err.problems).toMatchSnapshot();
    expect(err.problems).toHaveLength(7);
  });

  it('a memory request above the limit, or equal ports, are denied', () => {
    const err = denial(
      pod({ annotations: { 'llmroute.dev/memory-request': '1Gi', 'llmroute.dev/memory-limit': '512Mi', 'llmroute.dev/port': '4001' } }),
    );
    expect(err.problems).toEqual([
      expect.stringContaining('the API port and the admin port must differ'),
      expect.stringContaining('the memory request (1Gi) exceeds the limit (512Mi)'),
    ]);
  });

  it('conflicts: a volume named llmroute, a container on the sidecar port, hostNetwork', () => {
    const err = denial(
      pod({
        spec: {
          hostNetwork: true,
          volumes: [{ name: 'llmroute', emptyDir: {} }],
          containers: [{ name: 'app', image: 'a:1', ports: [{ containerPort: 4000 }] }],
        },
      }),
    );
    expect(err.code).toBe('inject_conflict');
    expect(err.problems).toMatchSnapshot();
  });

  it("the sidecar gets no ServiceAccount token: a read-only mount of an empty volume at the token's path (issue 15, point 6)", () => {
    // What the ServiceAccount admission plugin put there before the webhook, and does again when it is
    // reinvoked after the webhook's change: the token volume, mounted in every container that has no
    // mount at the path. The app keeps its token; the sidecar's own mount makes the plugin skip it.
    const tokenPath = '/var/run/secrets/kubernetes.io/serviceaccount';
    const p = pod({
      spec: {
        volumes: [{ name: 'kube-api-access-x1', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } }],
        containers: [{ name: 'app', image: 'shop:1', volumeMounts: [{ name: 'kube-api-access-x1', mountPath: tokenPath, readOnly: true }] }],
      },
    });
    const { pod: out } = patched(p);
    const sidecar = out.spec!.initContainers![0]!;
    const atTokenPath = sidecar.volumeMounts!.filter((m) => m.mountPath === tokenPath);
    expect(atTokenPath).toEqual([{ name: 'llmroute-no-token', mountPath: tokenPath, readOnly: true }]);
    expect(out.spec!.volumes!.find((v) => v.name === 'llmroute-no-token')).toEqual({ name: 'llmroute-no-token', emptyDir: { medium: 'Memory', sizeLimit: '1Ki' } });
    expect(out.spec!.containers[0]!.volumeMounts).toEqual([{ name: 'kube-api-access-x1', mountPath: tokenPath, readOnly: true }]);
    expect(out.spec!.volumes!.map((v) => v.name)).toEqual(['kube-api-access-x1', 'llmroute', 'llmroute-no-token']);
  });

  it('conflict: a volume already named llmroute-no-token', () => {
    const err = denial(pod({ spec: { volumes: [{ name: 'llmroute-no-token', emptyDir: {} }] } }));
    expect(err.code).toBe('inject_conflict');
    expect(err.problems).toEqual(["the pod already has a volume named 'llmroute-no-token'"]);
  });

  it('already injected: by the status annotation or by the container name', () => {
    expect(buildPodPatch(pod({ annotations: { 'llmroute.dev/status': 'injected' } }), options)).toEqual({
      action: 'skip',
      reason: 'already-injected',
    });
    const byName = pod({ spec: { initContainers: [{ name: 'llmroute-sidecar', image: IMAGE, restartPolicy: 'Always' }] } });
    expect(buildPodPatch(byName, options)).toEqual({ action: 'skip', reason: 'already-injected' });
  });

  it('is idempotent: a patched pod is not patched again', () => {
    const { pod: once } = patched(pod({ spec: { initContainers: [{ name: 'migrate', image: 'm:1' }] } }));
    expect(buildPodPatch(once, options)).toEqual({ action: 'skip', reason: 'already-injected' });
  });

  it('pods that do not opt in are left alone unless requireLabel is false', () => {
    const p = pod({ labels: { 'llmroute.dev/inject': 'false' } });
    expect(buildPodPatch(p, options)).toEqual({ action: 'skip', reason: 'not-opted-in' });
    expect(buildPodPatch(p, { ...options, requireLabel: false }).action).toBe('patch');
  });

  it('an object without containers is an invalid pod', () => {
    expect(() => buildPodPatch({ metadata: { labels: { 'llmroute.dev/inject': 'true' } } }, options)).toThrow(
      expect.objectContaining({ code: 'inject_invalid_pod' }),
    );
  });

  it('a pod without annotations gets the whole map; one without metadata gets metadata', () => {
    const bare: V1Pod = { spec: { containers: [{ name: 'a', image: 'a:1' }] } };
    const r = buildPodPatch(bare, { ...options, requireLabel: false });
    if (r.action !== 'patch') throw new Error('expected a patch');
    const out = applyJsonPatch(bare, r.patch);
    expect(out.metadata?.annotations?.['llmroute.dev/status']).toBe('injected');
  });
});

describe('cloud identity: the sidecar gets what the identity webhooks gave the app containers, whichever ran first', () => {
  const IRSA_ENV = [
    { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
    { name: 'AWS_DEFAULT_REGION', value: 'us-west-2' },
    { name: 'AWS_REGION', value: 'us-west-2' },
    { name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::111122223333:role/llm' },
    { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' },
  ];
  const IRSA_MOUNT = { name: 'aws-iam-token', readOnly: true, mountPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount' };
  const IRSA_VOLUME = { name: 'aws-iam-token', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }] } };
  /** What the EKS pod-identity webhook does to a pod: env and the token mount on each app container, the volume. */
  const irsaWebhook = (p: V1Pod): V1Pod => {
    const out = structuredClone(p);
    for (const c of out.spec!.containers) {
      c.env = [...(c.env ?? []), ...IRSA_ENV];
      c.volumeMounts = [...(c.volumeMounts ?? []), IRSA_MOUNT];
    }
    out.spec!.volumes = [...(out.spec!.volumes ?? []), IRSA_VOLUME];
    return out;
  };
  const sidecarOf = (p: V1Pod) => p.spec!.initContainers!.find((c) => c.name === 'llmroute-sidecar')!;
  const expectIrsa = (p: V1Pod): void => {
    const s = sidecarOf(p);
    expect(s.env).toEqual([
      { name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::111122223333:role/llm' },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' },
      { name: 'AWS_REGION', value: 'us-west-2' },
      { name: 'AWS_DEFAULT_REGION', value: 'us-west-2' },
      { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
    ]);
    expect(s.volumeMounts).toEqual([{ name: 'llmroute', mountPath: '/etc/llmroute', readOnly: true }, { name: 'llmroute-no-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }, IRSA_MOUNT]);
    // The app containers keep theirs and get the base URLs.
    expect(p.spec!.containers[0]!.env).toEqual(expect.arrayContaining([...IRSA_ENV, { name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:4000/v1' }]));
  };

  it('the identity webhook first: the injection copies its env and mount onto the sidecar', () => {
    const { pod: out } = patched(irsaWebhook(pod()));
    expectIrsa(out);
    // Called again (another webhook changed the pod): nothing more to do.
    expect(buildPodPatch(out, options)).toEqual({ action: 'skip', reason: 'already-injected' });
  });

  it('ours first: the sidecar has no identity; the reinvocation after the identity webhook adds only that, once', () => {
    const { pod: first } = patched(pod());
    expect(sidecarOf(first).env).toBeUndefined();
    const afterIdentity = irsaWebhook(first);
    const again = buildPodPatch(afterIdentity, options);
    if (again.action !== 'patch') throw new Error('expected a patch');
    expect(again.identityOnly).toBe(true);
    expect(again.patch.every((op) => op.op === 'add' && op.path.startsWith('/spec/initContainers/0/'))).toBe(true);
    const out = applyJsonPatch(afterIdentity, again.patch);
    expectIrsa(out);
    expect(out.spec!.containers).toEqual(afterIdentity.spec!.containers);
    expect(buildPodPatch(out, options)).toEqual({ action: 'skip', reason: 'already-injected' });
  });

  it('reinvocation fills in only what the sidecar lacks, and appends to its env', () => {
    const { pod: first } = patched(pod());
    const withSome = structuredClone(irsaWebhook(first));
    sidecarOf(withSome).env = [{ name: 'AWS_REGION', value: 'eu-west-1' }];
    const r = buildPodPatch(withSome, options);
    if (r.action !== 'patch') throw new Error('expected a patch');
    const s = sidecarOf(applyJsonPatch(withSome, r.patch));
    expect(s.env!.map((e) => `${e.name}=${e.value}`)).toEqual([
      'AWS_REGION=eu-west-1',
      'AWS_ROLE_ARN=arn:aws:iam::111122223333:role/llm',
      'AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
      'AWS_DEFAULT_REGION=us-west-2',
      'AWS_STS_REGIONAL_ENDPOINTS=regional',
    ]);
  });

  it('EKS Pod Identity and GCE_METADATA_HOST, with valueFrom kept; other env and mounts stay with the app', () => {
    const p = pod({
      spec: {
        containers: [
          {
            name: 'app',
            image: 'a:1',
            env: [
              { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'pw' } } },
              { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: 'http://169.254.170.23/v1/credentials' },
              { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token' },
            ],
            volumeMounts: [
              { name: 'data', mountPath: '/data' },
              { name: 'eks-pod-identity-token', mountPath: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount', readOnly: true },
            ],
          },
          { name: 'helper', image: 'h:1', env: [{ name: 'GCE_METADATA_HOST', valueFrom: { configMapKeyRef: { name: 'gce', key: 'host' } } }] },
        ],
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'eks-pod-identity-token', projected: { sources: [{ serviceAccountToken: { audience: 'pods.eks.amazonaws.com', path: 'eks-pod-identity-token' } }] } },
        ],
      },
    });
    const s = sidecarOf(patched(p).pod);
    expect(s.env).toEqual([
      { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: 'http://169.254.170.23/v1/credentials' },
      { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token' },
      { name: 'GCE_METADATA_HOST', valueFrom: { configMapKeyRef: { name: 'gce', key: 'host' } } },
    ]);
    expect(s.volumeMounts!.map((m) => m.name)).toEqual(['llmroute', 'llmroute-no-token', 'eks-pod-identity-token']);
  });

  it('a pod without identity gets a sidecar without env; a mount of a volume the pod lacks is not copied', () => {
    expect(sidecarOf(patched(pod()).pod).env).toBeUndefined();
    const p = pod({ spec: { containers: [{ name: 'app', image: 'a:1', volumeMounts: [{ name: 'aws-iam-token', mountPath: '/x' }] }] } });
    expect(sidecarOf(patched(p).pod).volumeMounts).toEqual([{ name: 'llmroute', mountPath: '/etc/llmroute', readOnly: true }, { name: 'llmroute-no-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }]);
  });
});
