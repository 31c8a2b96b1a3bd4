// The chart as tests see it: helm (from hack/tools.ts) renders it, and the
// rendered objects go to the real API server with server-side dry runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../operator/src/kube/kube-client.ts';
import { toolPath } from '../../hack/tools.ts';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const CHART = path.join(REPO, 'charts', 'llmroute');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: any;
}

export function helm(args: string[]): string {
  try {
    return execFileSync(toolPath('helm'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HELM_CACHE_HOME: path.join(tmpdir(), 'llmroute-helm-cache') } });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`helm ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

/** `helm template` with values (written to a temp file) → the objects. */
export function renderChart(release: string, namespace: string, values: object = {}): K8sObject[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'llmroute-chart-'));
  try {
    const file = path.join(dir, 'values.yaml');
    writeFileSync(file, yaml.dump(values));
    const text = helm(['template', release, CHART, '--namespace', namespace, '--values', file]);
    return (yaml.loadAll(text) as Array<K8sObject | null>).filter((d): d is K8sObject => !!d);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function one(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}: ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found[0]!;
}

const RESOURCES: Record<string, { plural: string; namespaced: boolean }> = {
  CustomResourceDefinition: { plural: 'customresourcedefinitions', namespaced: false },
  ClusterRole: { plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { plural: 'clusterrolebindings', namespaced: false },
  Role: { plural: 'roles', namespaced: true },
  RoleBinding: { plural: 'rolebindings', namespaced: true },
  ServiceAccount: { plural: 'serviceaccounts', namespaced: true },
  Service: { plural: 'services', namespaced: true },
  ConfigMap: { plural: 'configmaps', namespaced: true },
  Secret: { plural: 'secrets', namespaced: true },
  Deployment: { plural: 'deployments', namespaced: true },
  PodDisruptionBudget: { plural: 'poddisruptionbudgets', namespaced: true },
  MutatingWebhookConfiguration: { plural: 'mutatingwebhookconfigurations', namespaced: false },
  ValidatingAdmissionPolicy: { plural: 'validatingadmissionpolicies', namespaced: false },
  ValidatingAdmissionPolicyBinding: { plural: 'validatingadmissionpolicybindings', namespaced: false },
};

/** Kinds whose CRDs the test cluster does not have: validated offline. */
export const OFFLINE_KINDS = new Set(['ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'Certificate', 'Issuer']);

export function objectPath(o: K8sObject): string {
  const r = RESOURCES[o.kind];
  if (!r) throw new Error(`no API path known for ${o.kind}`);
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const ns = r.namespaced ? `/namespaces/${o.metadata.namespace}` : '';
  return `${base}${ns}/${r.plural}/${o.metadata.name}`;
}

/** Server-side apply with dryRun=All and fieldValidation=Strict: the API server validates, nothing is stored. */
export async function dryRunApply(kc: KubeConfig, o: K8sObject): Promise<K8sObject> {
  const client = new KubeClient(kc);
  try {
    return await client.request<K8sObject>('PATCH', objectPath(o), {
      body: o,
      contentType: 'application/apply-patch+yaml',
      query: { dryRun: 'All', fieldValidation: 'Strict', fieldManager: 'llmroute-chart-test', force: true },
    });
  } finally {
    client.close();
  }
}

/** Really applies (server-side apply, force). */
export async function apply(kc: KubeConfig, o: K8sObject, fieldManager = 'llmroute-chart-test'): Promise<K8sObject> {
  const client = new KubeClient(kc);
  try {
    return await client.request<K8sObject>('PATCH', objectPath(o), {
      body: o,
      contentType: 'application/apply-patch+yaml',
      query: { fieldValidation: 'Strict', fieldManager, force: true },
    });
  } finally {
    client.close();
  }
}

/** Deletes an object (absent already is fine). */
export async function remove(kc: KubeConfig, o: K8sObject): Promise<void> {
  const client = new KubeClient(kc);
  try {
    await client.request('DELETE', objectPath(o)).catch((err: { notFound?: boolean }) => {
      if (!err.notFound) throw err;
    });
  } finally {
    client.close();
  }
}
