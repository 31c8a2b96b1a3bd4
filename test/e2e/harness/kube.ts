// Helpers for e2e test files. They find the control plane through the state
// file that global-setup.ts wrote ($LLMROUTE_E2E_STATE).
//
//   import { adminKubeConfig, createNamespace, applyYaml, waitFor } from './harness/kube.ts';
//
//   const kc = adminKubeConfig();
//   const ns = await createNamespace(uniqueName('shop'));
//   await applyYaml(kc, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ${ns}}\n`, 'my-test');
//   const cm = await waitFor(() => core.readNamespacedConfigMap({ name: 'x', namespace: ns }), { description: 'ConfigMap x' });

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import yaml from 'js-yaml';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadYaml,
  type KubernetesObject,
  type V1Namespace,
} from '@kubernetes/client-node';
import type { ControlPlaneInfo } from './control-plane.ts';

export type { ControlPlaneInfo } from './control-plane.ts';

// ---------------------------------------------------------------------------
// state and kubeconfigs

let cachedState: { file: string; info: ControlPlaneInfo } | undefined;

/** The control plane's connection info, as written by global-setup.ts. */
export function e2eState(): ControlPlaneInfo {
  const file = process.env.LLMROUTE_E2E_STATE;
  if (!file) {
    throw new Error(
      'LLMROUTE_E2E_STATE is not set: e2e tests need the control plane of the e2e global setup. ' +
        'Run them with: node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects e2e',
    );
  }
  if (cachedState?.file !== file) {
    cachedState = { file, info: JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneInfo };
  }
  return cachedState.info;
}

/** A KubeConfig of a cluster admin (`system:masters` locally). */
export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(e2eState().kubeconfigPath);
  return kc;
}

/**
 * A KubeConfig of the unprivileged user `llmroute-operator-test` (no groups
 * besides system:authenticated; against an existing cluster: impersonated).
 */
export function userKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(e2eState().userKubeconfigPath);
  return kc;
}

/** The unprivileged user's name, for RoleBindings. */
export function testUserName(): string {
  return e2eState().userName;
}

// ---------------------------------------------------------------------------
// errors

/** The HTTP status of a failed client-node call (ApiException.code), if any. */
export function apiStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'number') {
    return (err as { code: number }).code;
  }
  return undefined;
}

/** The Kubernetes Status body of a failed call (reason, message, details), if any. */
export function apiStatusBody(err: unknown): { reason?: string; message?: string; code?: number } | undefined {
  if (!err || typeof err !== 'object' || !('body' in err)) return undefined;
  const body = (err as { body: unknown }).body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { reason?: string; message?: string };
    } catch {
      return { message: body };
    }
  }
  return body && typeof body === 'object' ? (body as { reason?: string; message?: string }) : undefined;
}

/** Resolves to the HTTP status a promise fails with; throws if it succeeds. */
export async function expectApiError(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    const status = apiStatus(err);
    if (status === undefined) throw err;
    return status;
  }
  throw new Error('expected the API call to fail, but it succeeded');
}

// ---------------------------------------------------------------------------
// namespaces

/** `prefix-xxxxx`: a fresh DNS-1123 name for a namespace or object. */
export function uniqueName(prefix: string): string {
  const suffix = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  return `${prefix}-${suffix}`.toLowerCase().slice(0, 63);
}

/**
 * Creates a namespace (labelled `llmroute.dev/e2e: "true"`) and returns its
 * name. Accepts an existing one. Use a fresh name per test (uniqueName):
 * deleted namespaces never go away in the local control plane.
 */
export async function createNamespace(name: string, kc: KubeConfig = adminKubeConfig()): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const body: V1Namespace = { metadata: { name, labels: { 'llmroute.dev/e2e': 'true' } } };
  try {
    await core.createNamespace({ body });
  } catch (err) {
    if (apiStatus(err) !== 409) throw err;
  }
  return name;
}

/**
 * Deletes a namespace; a missing one is fine. It does not wait by default:
 * without a namespace controller (local mode) it stays Terminating. With
 * `wait`, polls until it is gone (useful against a real cluster).
 */
export async function deleteNamespace(
  name: string,
  o: { kc?: KubeConfig; wait?: boolean; timeoutMs?: number } = {},
): Promise<void> {
  const core = (o.kc ?? adminKubeConfig()).makeApiClient(CoreV1Api);
  try {
    await core.deleteNamespace({ name });
  } catch (err) {
    if (apiStatus(err) === 404) return;
    throw err;
  }
  if (!o.wait) return;
  await waitFor(
    async () => {
      try {
        await core.readNamespace({ name });
        return false;
      } catch (err) {
        if (apiStatus(err) === 404) return true;
        throw err;
      }
    },
    { timeoutMs: o.timeoutMs ?? 60_000, description: `namespace ${name} to be deleted` },
  );
}

// ---------------------------------------------------------------------------
// polling

export interface WaitForOptions {
  /** default 30 s */
  timeoutMs?: number;
  /** default 200 ms */
  intervalMs?: number;
  /** what is awaited, for the timeout message */
  description?: string;
}

/**
 * Calls fn until it returns something other than undefined, null or false,
 * and resolves to that. A throw counts as "not yet" (and is remembered).
 * On timeout it rejects with the description, the last value and the last
 * error.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  o: WaitForOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const intervalMs = o.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastValue: unknown = '(no value yet)';
  let lastError: unknown;
  for (;;) {
    attempts++;
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as Exclude<T, undefined | null | false>;
      lastValue = v;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const parts = [`Timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${o.description ?? 'a condition'}.`];
  parts.push(`Last value: ${inspect(lastValue, { depth: 6, breakLength: 120 })}`);
  if (lastError !== undefined) parts.push(`Last error: ${describeError(lastError)}`);
  throw new Error(parts.join('\n'));
}

function describeError(err: unknown): string {
  const status = apiStatus(err);
  if (status !== undefined) {
    const body = apiStatusBody(err);
    return `HTTP ${status}${body?.reason ? ` ${body.reason}` : ''}: ${body?.message ?? (err as Error).message}`;
  }
  return err instanceof Error ? err.message : inspect(err);
}

// ---------------------------------------------------------------------------
// server-side apply

export interface ApplyOptions {
  /** Take over fields other managers own instead of failing with 409. Default false. */
  force?: boolean;
  /** Namespace for namespaced objects that name none (default: the kubeconfig context's). */
  namespace?: string;
}

/** KubernetesObjectApi with its (protected) discovery lookup exposed. */
class ObjectApi extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): ObjectApi {
    const client = kc.makeApiClient(ObjectApi);
    client.setDefaultNamespace(kc);
    return client;
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    const res = await this.resource(apiVersion, kind);
    if (!res) throw new Error(`the server does not know ${kind} in ${apiVersion}`);
    return res.namespaced;
  }
}

/**
 * Server-side applies every document of a multi-document YAML text (empty
 * documents are skipped) in order, with the given field manager, and returns
 * the objects as the server stored them. A conflict with another manager
 * rejects with the ApiException (apiStatus(err) === 409) unless `force`.
 *
 * Objects go through client-node's typed models (loadYaml), so a field
 * that client-node's models do not know would be dropped for built-in kinds;
 * custom resources are sent as they are.
 */
export async function applyYaml(
  kc: KubeConfig,
  yamlText: string,
  fieldManager: string,
  o: ApplyOptions = {},
): Promise<KubernetesObject[]> {
  const client = ObjectApi.forConfig(kc);
  // client-node's loadAllYaml fails on empty documents (a trailing `---`):
  // split with js-yaml, then let client-node turn each into its model.
  const docs = yaml
    .loadAll(yamlText)
    .filter((d) => d !== null && d !== undefined)
    .map((d) => {
      if (typeof d !== 'object' || Array.isArray(d)) throw new Error(`applyYaml: a document is not an object: ${inspect(d)}`);
      return loadYaml<KubernetesObject>(JSON.stringify(d));
    });
  const out: KubernetesObject[] = [];
  for (const doc of docs) {
    if (!doc.apiVersion || !doc.kind || !doc.metadata?.name) {
      throw new Error(`applyYaml: every document needs apiVersion, kind and metadata.name; got ${inspect(doc)}`);
    }
    if (o.namespace && !doc.metadata.namespace) {
      if (await client.isNamespaced(doc.apiVersion, doc.kind)) doc.metadata.namespace = o.namespace;
    }
    // SSA bodies must not carry these; they come back from reads.
    delete doc.metadata.resourceVersion;
    delete doc.metadata.managedFields;
    const applied = await client.patch(doc, undefined, undefined, fieldManager, o.force ?? false, PatchStrategy.ServerSideApply);
    out.push(applied);
  }
  return out;
}

// ---------------------------------------------------------------------------
// CRDs

/** Polls until the CRD reports Established=True (and NamesAccepted=True). */
export async function waitForCrdEstablished(kc: KubeConfig, name: string, timeoutMs = 30_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  await waitFor(
    async () => {
      const crd = await api.readCustomResourceDefinition({ name });
      const conds = crd.status?.conditions ?? [];
      const est = conds.find((c) => c.type === 'Established');
      const names = conds.find((c) => c.type === 'NamesAccepted');
      if (names?.status === 'False') throw new Error(`NamesAccepted=False: ${names.message ?? names.reason ?? ''}`);
      if (est?.status === 'True') return true;
      // Not yet: throw so that the timeout message shows the conditions.
      throw new Error(`conditions: ${conds.map((c) => `${c.type}=${c.status}`).join(', ') || '(none yet)'}`);
    },
    { timeoutMs, description: `CRD ${name} to be Established` },
  );
}

/**
 * Server-side applies every `*.yaml`/`*.yml` file in dir (sorted; a missing
 * folder is fine) with field manager `llmroute-e2e` (force), then waits for
 * each CustomResourceDefinition among them to be Established. Returns the
 * CRD names.
 */
export async function installCrds(kc: KubeConfig, dir: string, o: { fieldManager?: string } = {}): Promise<string[]> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const names: string[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    let applied: KubernetesObject[];
    try {
      applied = await applyYaml(kc, readFileSync(file, 'utf8'), o.fieldManager ?? 'llmroute-e2e', { force: true });
    } catch (err) {
      throw new Error(`installing ${file} failed: ${describeError(err)}`, { cause: err });
    }
    for (const obj of applied) {
      if (obj.kind === 'CustomResourceDefinition' && obj.metadata?.name) names.push(obj.metadata.name);
    }
  }
  for (const name of names) await waitForCrdEstablished(kc, name);
  return names;
}
