// The Helm chart against a real kube-apiserver: lint, render, and every
// rendered object validated by the API server with a server-side dry run
// (dryRun=All, fieldValidation=Strict: unknown fields are errors). Kinds
// whose CRDs this cluster does not have (Prometheus Operator, cert-manager)
// are parsed and checked field by field instead.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { adminKubeConfig, apiStatusBody, createNamespace, uniqueName } from './harness/kube.ts';
import { parseArgs } from '../../operator/src/args.ts';
import { DEFAULT_DESTINATIONS, keyDestinations } from '../../operator/src/render/key-destinations.ts';
import { CHART, dryRunApply, helm, OFFLINE_KINDS, one, REPO, renderChart, type K8sObject } from './chart-helpers.ts';

const admin = adminKubeConfig();
const readYaml = (rel: string) => yaml.load(readFileSync(path.join(REPO, rel), 'utf8')) as K8sObject;
const VARIANT = {
  watchNamespaces: ['shop', 'blog'],
  certManager: { enabled: true },
  serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
  podMonitor: { enabled: true },
  prometheusRule: { enabled: true },
  grafanaDashboard: { enabled: true },
  webhook: { failurePolicy: 'Ignore', excludeNamespaces: ['monitoring'] },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }],
  affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'x' } } } }] } },
};

async function dryRunAll(objs: K8sObject[]): Promise<string[]> {
  const validated: string[] = [];
  for (const o of objs) {
    if (OFFLINE_KINDS.has(o.kind)) continue;
    try {
      const out = await dryRunApply(admin, o);
      expect(out.kind).toBe(o.kind);
    } catch (err) {
      throw new Error(`dry run of ${o.kind} ${o.metadata.name} failed: ${apiStatusBody((err as { cause?: unknown }).cause ?? err)?.message ?? (err as Error).message}`);
    }
    validated.push(`${o.kind}/${o.metadata.name}`);
  }
  return validated;
}

describe('helm chart', () => {
  it('passes helm lint --strict, with the defaults and with every option on', () => {
    expect(helm(['lint', '--strict', CHART])).toContain('0 chart(s) failed');
    const sets = ['--set', 'certManager.enabled=true,serviceMonitor.enabled=true,podMonitor.enabled=true,prometheusRule.enabled=true,grafanaDashboard.enabled=true', '--set', 'watchNamespaces={shop,blog}'];
    expect(helm(['lint', '--strict', CHART, ...sets])).toContain('0 chart(s) failed');
  });

  it('values.schema.json refuses unknown keys at every level and bad values', () => {
    for (const set of ['bogus=1', 'webhook.bogus=1', 'certManager.issuerRef.bogus=1', 'resources.requests.gpu=1', 'webhook.failurePolicy=Sometimes', 'watchNamespaces={Not_A_Name}', 'replicaCount=0', 'kubeWrites.qps=-1', 'kubeWrites.burst=0', 'kubeWrites.burst=1.5']) {
      expect(() => helm(['template', 'x', CHART, '--set', set])).toThrow(/values don't meet the specifications|additional properties|value must be|must be/);
    }
    const schema = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8'));
    const objectsWithoutClosure: string[] = [];
    const walk = (s: any, at: string) => {
      if (!s || typeof s !== 'object') return;
      if (s.type === 'object' && s.properties && s.additionalProperties !== false) objectsWithoutClosure.push(at);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${at}.${k}`);
      if (s.items) walk(s.items, `${at}[]`);
      for (const alt of s.anyOf ?? []) walk(alt, at);
    };
    walk(schema, '');
    expect(objectsWithoutClosure).toEqual([]);
  });

  it('the default render passes the API server’s strict dry run', async () => {
    const ns = await createNamespace(uniqueName('llmroute-system'));
    const objs = renderChart('llmroute', ns);
    const validated = await dryRunAll(objs);
    expect(validated.sort()).toEqual(
      [
        'ClusterRole/llmroute-operator',
        'ClusterRole/llmroute-operator-webhook',
        'ClusterRoleBinding/llmroute-operator',
        'ClusterRoleBinding/llmroute-operator-webhook',
        'CustomResourceDefinition/llmroutes.llmroute.dev',
        'Deployment/llmroute-operator',
        'MutatingWebhookConfiguration/llmroute',
        'PodDisruptionBudget/llmroute-operator',
        'Role/llmroute-operator-self',
        'RoleBinding/llmroute-operator-self',
        'Secret/llmroute-webhook-tls',
        'Service/llmroute-metrics',
        'Service/llmroute-webhook',
        'ServiceAccount/llmroute-operator',
        'ValidatingAdmissionPolicy/llmroute-key-destinations',
        'ValidatingAdmissionPolicyBinding/llmroute-key-destinations',
      ].sort(),
    );
  });

  it('the variant render (watchNamespaces, cert-manager, monitoring, dashboard) passes too', async () => {
    const ns = await createNamespace(uniqueName('llmroute-system'));
    for (const w of VARIANT.watchNamespaces) await createNamespace(w);
    const objs = renderChart('llmroute', ns, VARIANT);
    const validated = await dryRunAll(objs);
    expect(validated).toEqual(expect.arrayContaining(['Role/llmroute-operator', 'ConfigMap/llmroute-dashboard', 'Deployment/llmroute-operator']));
    expect(objs.filter((o) => OFFLINE_KINDS.has(o.kind)).map((o) => o.kind).sort()).toEqual(['Certificate', 'Issuer', 'PodMonitor', 'PrometheusRule', 'ServiceMonitor']);
  });

  it('the CRD is the one in crds/, kept on uninstall, and can be left out', () => {
    const crd = one(renderChart('llmroute', 'llmroute-system'), 'CustomResourceDefinition');
    const source = readYaml('crds/llmroute.dev_llmroutes.yaml');
    expect(crd.spec).toEqual(source.spec);
    expect(crd.metadata.name).toBe(source.metadata.name);
    expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    expect(renderChart('llmroute', 'llmroute-system', { crds: { install: false } }).some((o) => o.kind === 'CustomResourceDefinition')).toBe(false);
  });

  it('RBAC: exactly config/rbac’s rules, plus the webhook’s own by resourceName', () => {
    const role = readYaml('config/rbac/role.yaml');
    const leader = readYaml('config/rbac/leader-election-role.yaml');
    const objs = renderChart('llmroute', 'llmroute-system');
    expect(one(objs, 'ClusterRole', 'llmroute-operator').rules).toEqual(role.rules);
    expect(one(objs, 'ClusterRoleBinding', 'llmroute-operator').subjects).toEqual([{ kind: 'ServiceAccount', name: 'llmroute-operator', namespace: 'llmroute-system' }]);
    const self = one(objs, 'Role', 'llmroute-operator-self');
    expect(self.rules).toEqual([
      ...leader.rules,
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['llmroute-webhook-tls'], verbs: ['get', 'update', 'patch', 'create'] },
    ]);
    expect(one(objs, 'ClusterRole', 'llmroute-operator-webhook').rules).toEqual([
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], resourceNames: ['llmroute'], verbs: ['get', 'update'] },
    ]);

    // watchNamespaces: a Role per namespace with the same rules, no ClusterRole for them.
    const scoped = renderChart('llmroute', 'llmroute-system', VARIANT);
    for (const ns of VARIANT.watchNamespaces) {
      const r = scoped.find((o) => o.kind === 'Role' && o.metadata.namespace === ns)!;
      expect(r.rules).toEqual(role.rules);
      expect(scoped.find((o) => o.kind === 'RoleBinding' && o.metadata.namespace === ns)!.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'llmroute-operator' });
    }
    expect(scoped.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    // cert-manager issues the certificate: no Secret or webhook-configuration rights.
    expect(one(scoped, 'Role', 'llmroute-operator-self').rules).toEqual(leader.rules);
  });

  it('the operator Deployment: replicas, args, env, probes, restricted security', () => {
    const d = one(renderChart('llmroute', 'llmroute-system'), 'Deployment');
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(d.spec.replicas).toBe(2);
    expect(c.image).toBe('ghcr.io/llmroute/operator:0.1.0');
    expect(c.args).toEqual([
      '--webhook-port=9443',
      '--metrics-port=8080',
      '--leader-elect=true',
      '--leader-election-id=llmroute-operator',
      '--log-level=info',
      '--kube-write-qps=50',
      '--kube-write-burst=100',
      '--allowed-base-url-hosts=anthropic=api.anthropic.com,azure-openai=*.openai.azure.com,azure-openai=*.cognitiveservices.azure.com,bedrock=*.amazonaws.com,gemini=generativelanguage.googleapis.com,openai=api.openai.com,vertex=aiplatform.googleapis.com,vertex=*.googleapis.com',
      '--sidecar-image=ghcr.io/llmroute/sidecar:0.1.0',
      '--sidecar-image-pull-policy=IfNotPresent',
      '--webhook-config-name=llmroute',
      '--webhook-service=llmroute-webhook',
      '--webhook-secret=llmroute-webhook-tls',
    ]);
    expect(c.env[0]).toEqual({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    // issue 15, point 9: the pod's uid, so the leader makes its pod the Lease's owner
    expect(c.env).toContainEqual({ name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } });
    expect(parseArgs([], { POD_NAME: 'llmroute-operator-0', POD_UID: 'u-0' }).pod).toEqual({ name: 'llmroute-operator-0', uid: 'u-0' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } });

    const v = one(renderChart('llmroute', 'llmroute-system', VARIANT), 'Deployment').spec.template.spec;
    expect(v.containers[0].args).toEqual(expect.arrayContaining(['--namespace=shop', '--namespace=blog', '--webhook-cert-dir=/var/run/llmroute/webhook-certs']));
    expect(v.containers[0].args.some((a: string) => a.startsWith('--webhook-secret'))).toBe(false);
    expect(v.volumes).toEqual([{ name: 'webhook-certs', secret: { secretName: 'llmroute-webhook-tls' } }]);

    // and the operator's own command line takes every one of those args
    const env = { POD_NAMESPACE: 'llmroute-system' };
    expect(parseArgs(c.args, env)).toMatchObject({ sidecarImage: 'ghcr.io/llmroute/sidecar:0.1.0', webhookSecret: 'llmroute-webhook-tls', leaseName: 'llmroute-operator', writeQps: 50, writeBurst: 100 });
    expect(parseArgs(v.containers[0].args, env)).toMatchObject({ namespaces: ['shop', 'blog'], webhookCertDir: '/var/run/llmroute/webhook-certs' });
  });

  it('the webhook TLS Secret belongs to the release (helm uninstall deletes it), created empty for the operator to fill', () => {
    const secret = one(renderChart('llmroute', 'llmroute-system'), 'Secret', 'llmroute-webhook-tls');
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'llmroute-webhook-tls', namespace: 'llmroute-system' } });
    expect(secret.data).toBeUndefined();
    expect(secret.metadata.annotations?.['helm.sh/resource-policy']).toBeUndefined();
    // with cert-manager, cert-manager writes the Secret its Certificate names
    expect(renderChart('llmroute', 'llmroute-system', VARIANT).some((o) => o.kind === 'Secret' && o.metadata.name === 'llmroute-webhook-tls')).toBe(false);
  });

  it('kubeWrites: the write limits reach the operator’s flags (0: no limit)', () => {
    const args = (values: object) => one(renderChart('llmroute', 'llmroute-system', values), 'Deployment').spec.template.spec.containers[0].args as string[];
    const limits = (values: object) => args(values).filter((a) => a.startsWith('--kube-write-'));
    expect(limits({ kubeWrites: { qps: 200, burst: 400 } })).toEqual(['--kube-write-qps=200', '--kube-write-burst=400']);
    expect(limits({ kubeWrites: { qps: 0.5 } })).toEqual(['--kube-write-qps=0.5', '--kube-write-burst=100']);
    expect(parseArgs(args({ kubeWrites: { qps: 0, burst: 1 } }), { POD_NAMESPACE: 'x' })).toMatchObject({ writeQps: 0, writeBurst: 1 });
  });

  it('keyDestinations: one list for the operator’s flag and the admission policy; the binding follows watchNamespaces; the policy can be left out', () => {
    const args = (values: object) => one(renderChart('llmroute', 'llmroute-system', values), 'Deployment').spec.template.spec.containers[0].args as string[];
    const env = { POD_NAMESPACE: 'llmroute-system' };
    // The defaults are the operator's own defaults.
    expect(keyDestinations(parseArgs(args({}), env).allowedBaseUrlHosts!)).toEqual(DEFAULT_DESTINATIONS);
    const custom = { keyDestinations: { allowedHosts: { openai: [], 'openai-compatible': ['vllm.ml.svc:8000', '*.groq.com'] } } };
    expect(parseArgs(args(custom), env).allowedBaseUrlHosts).toEqual({
      anthropic: ['api.anthropic.com'],
      'azure-openai': ['*.openai.azure.com', '*.cognitiveservices.azure.com'],
      bedrock: ['*.amazonaws.com'],
      gemini: ['generativelanguage.googleapis.com'],
      'openai-compatible': ['vllm.ml.svc:8000', '*.groq.com'],
      vertex: ['aiplatform.googleapis.com', '*.googleapis.com'],
    });
    // Every list emptied: the flag is still given, and allows nothing.
    const none = { keyDestinations: { allowedHosts: { openai: [], anthropic: [], 'azure-openai': [], 'openai-compatible': [], gemini: [], bedrock: [], vertex: [] } } };
    expect(args(none)).toContain('--allowed-base-url-hosts=');
    expect(parseArgs(args(none), env).allowedBaseUrlHosts).toEqual({});

    const policy = one(renderChart('llmroute', 'llmroute-system', custom), 'ValidatingAdmissionPolicy');
    expect(policy.spec.variables[0]).toEqual({ name: 'allowed', expression: JSON.stringify({ anthropic: ['api.anthropic.com'], 'azure-openai': ['*.openai.azure.com', '*.cognitiveservices.azure.com'], bedrock: ['*.amazonaws.com'], gemini: ['generativelanguage.googleapis.com'], openai: [], 'openai-compatible': ['vllm.ml.svc:8000', '*.groq.com'], vertex: ['aiplatform.googleapis.com', '*.googleapis.com'] }) });
    expect(policy.spec.matchConstraints.resourceRules).toEqual([{ apiGroups: ['llmroute.dev'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['llmroutes'] }]);
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(one(renderChart('llmroute', 'llmroute-system'), 'ValidatingAdmissionPolicyBinding').spec).toEqual({ policyName: 'llmroute-key-destinations', validationActions: ['Deny'] });
    expect(one(renderChart('llmroute', 'llmroute-system', VARIANT), 'ValidatingAdmissionPolicyBinding').spec.matchResources).toEqual({
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop', 'blog'] }] },
    });
    const off = renderChart('llmroute', 'llmroute-system', { keyDestinations: { admissionPolicy: { enabled: false } } });
    expect(off.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy'))).toEqual([]);
    // The operator still enforces the lists without it.
    expect(one(off, 'Deployment').spec.template.spec.containers[0].args.some((a: string) => a.startsWith('--allowed-base-url-hosts='))).toBe(true);
    // The schema refuses what is not a host entry, and unknown providers.
    for (const set of ['keyDestinations.allowedHosts.openai={https://api.openai.com}', 'keyDestinations.allowedHosts.openai={a@b.example}', 'keyDestinations.allowedHosts.mistral={x.example}', 'keyDestinations.allowedHosts.openai={API.openai.com}']) {
      expect(() => helm(['template', 'x', CHART, '--set', set])).toThrow(/values don't meet the specifications|additional properties|must be|does not match/);
    }
  });

  it('the webhook configuration: selectors, failure policy, timeouts', () => {
    const w = one(renderChart('llmroute', 'llmroute-system'), 'MutatingWebhookConfiguration').webhooks[0];
    expect(w).toMatchObject({
      name: 'inject.llmroute.dev',
      admissionReviewVersions: ['v1'],
      clientConfig: { service: { name: 'llmroute-webhook', namespace: 'llmroute-system', path: '/mutate-pods', port: 443 } },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
      objectSelector: { matchLabels: { 'llmroute.dev/inject': 'true' } },
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['llmroute-system', 'kube-system'] }] },
      failurePolicy: 'Fail',
      sideEffects: 'None',
      timeoutSeconds: 5,
      reinvocationPolicy: 'IfNeeded',
    });
    expect(w.clientConfig.caBundle).toBeUndefined();
    const v = one(renderChart('llmroute', 'llmroute-system', VARIANT), 'MutatingWebhookConfiguration');
    expect(v.webhooks[0].failurePolicy).toBe('Ignore');
    expect(v.webhooks[0].namespaceSelector.matchExpressions[0].values).toEqual(['llmroute-system', 'kube-system', 'monitoring']);
    expect(v.metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': 'llmroute-system/llmroute-webhook' });
  });

  it('offline: cert-manager, ServiceMonitor, PodMonitor, PrometheusRule and the Grafana dashboard', () => {
    const objs = renderChart('llmroute', 'llmroute-system', VARIANT);
    const cert = one(objs, 'Certificate');
    expect(cert.apiVersion).toBe('cert-manager.io/v1');
    expect(cert.metadata.name).toBe('llmroute-webhook'); // what inject-ca-from names
    expect(cert.spec).toMatchObject({
      secretName: 'llmroute-webhook-tls',
      dnsNames: ['llmroute-webhook.llmroute-system.svc', 'llmroute-webhook.llmroute-system.svc.cluster.local'],
      issuerRef: { name: 'llmroute-selfsigned', kind: 'Issuer', group: 'cert-manager.io' },
      usages: ['digital signature', 'server auth'],
    });
    expect(one(objs, 'Issuer')).toMatchObject({ apiVersion: 'cert-manager.io/v1', metadata: { name: 'llmroute-selfsigned', namespace: 'llmroute-system' }, spec: { selfSigned: {} } });
    const withIssuer = renderChart('llmroute', 'llmroute-system', { certManager: { enabled: true, issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } } });
    expect(withIssuer.some((o) => o.kind === 'Issuer')).toBe(false);
    expect(one(withIssuer, 'Certificate').spec.issuerRef).toEqual({ name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });

    const sm = one(objs, 'ServiceMonitor');
    const metricsSvc = one(objs, 'Service', 'llmroute-metrics');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels?.release).toBe('prometheus');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels as Record<string, string>)) expect(metricsSvc.metadata.labels?.[k]).toBe(v);
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    expect(metricsSvc.spec.ports[0].name).toBe('metrics');

    const pm = one(objs, 'PodMonitor');
    expect(pm.spec).toEqual({ selector: { matchLabels: { 'llmroute.dev/inject': 'true' } }, namespaceSelector: { any: true }, podMetricsEndpoints: [{ port: 'llmroute-admin', path: '/metrics', interval: '30s' }] });

    const rules = one(objs, 'PrometheusRule').spec.groups[0].rules as Array<{ alert: string; expr: string; for?: string; labels: { severity: string }; annotations: { summary: string } }>;
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    expect(Object.keys(byName).sort()).toEqual(['LLMRouteCircuitOpen', 'LLMRouteConfigRefused', 'LLMRouteHighFallbackRate', 'LLMRouteNoHealthyTarget']);
    expect(byName.LLMRouteNoHealthyTarget!.expr).toBe('min by (namespace, pod, route) (llmroute_circuit_state) == 2');
    expect(byName.LLMRouteNoHealthyTarget!.labels.severity).toBe('critical');
    expect(byName.LLMRouteHighFallbackRate!.expr).toContain('rate(llmroute_fallbacks_total[5m])');
    expect(byName.LLMRouteHighFallbackRate!.expr).toContain('> 0.2');
    expect(byName.LLMRouteCircuitOpen!.expr).toBe('max by (namespace, route, target) (llmroute_circuit_state) == 2');
    for (const r of rules) {
      expect(r.annotations.summary).toMatch(/\{\{ \$labels\.\w+ \}\}/); // Prometheus templates survive Helm's
      expect(balanced(r.expr)).toBe(true);
    }

    const cm = one(objs, 'ConfigMap', 'llmroute-dashboard');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    const dash = JSON.parse(cm.data['llmroute.json']);
    const titles: string[] = dash.panels.map((p: { title: string }) => p.title);
    for (const want of [/Requests/, /Fallbacks/, /first token/, /Circuit state/, /Tokens/]) expect(titles.some((t) => want.test(t))).toBe(true);
    const exprs: string = JSON.stringify(dash.panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr)));
    for (const metric of ['llmroute_requests_total', 'llmroute_fallbacks_total', 'llmroute_time_to_first_token_seconds_bucket', 'llmroute_circuit_state', 'llmroute_tokens_total']) {
      expect(exprs).toContain(metric);
    }
  });

  it('NOTES.txt names the next steps, labelling the Secrets first', () => {
    const out = helm(['install', 'llmroute', CHART, '--dry-run=client', '--namespace', 'llmroute-system']);
    expect(out).toContain('kubectl -n shop label secret openai-key anthropic-key llmroute.dev/credentials=true');
    expect(out).toContain('keyDestinations.allowedHosts');
    expect(out).toContain('kind: LLMRoute');
    expect(out).toContain('llmroute.dev/inject":"true"');
  });
});

function balanced(expr: string): boolean {
  let depth = 0;
  for (const ch of expr) {
    if (ch === '(') depth++;
    if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}
