/**
 * Injection without the webhook: applies buildPodPatch to the pod specs in
 * manifests (Pods, and the pod templates of Deployments, StatefulSets,
 * DaemonSets, ReplicaSets, Jobs, CronJobs; Lists are walked). Pure: objects
 * in, objects out, every refusal collected with the object it concerns.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { InjectionError } from './errors.ts';
import { applyJsonPatch } from './json-patch.ts';
import type { InjectOptions } from './options.ts';
import { buildPodPatch } from './pod-patch.ts';

type Obj = Record<string, unknown>;

export interface ManifestReport {
  /** "Deployment shop/web" for each pod spec that got the sidecar. */
  injected: string[];
  /** Pod specs left alone, with why. */
  skipped: string[];
  warnings: string[];
  /** Refusals (bad annotations, conflicts): the caller must not write the output. */
  errors: string[];
}

const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController']);

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function describe(doc: Obj): string {
  const m = isObj(doc.metadata) ? doc.metadata : {};
  const ns = typeof m.namespace === 'string' ? `${m.namespace}/` : '';
  return `${String(doc.kind ?? 'object')} ${ns}${String(m.name ?? m.generateName ?? '(unnamed)')}`;
}

/** Injects every pod spec of the documents (copies; the input is not changed). */
export function injectManifests(docs: readonly unknown[], options: InjectOptions): { docs: unknown[]; report: ManifestReport } {
  const report: ManifestReport = { injected: [], skipped: [], warnings: [], errors: [] };
  return { docs: docs.map((d) => injectDoc(structuredClone(d), options, report)), report };
}

function injectDoc(doc: unknown, options: InjectOptions, report: ManifestReport): unknown {
  if (!isObj(doc)) return doc;
  const kind = doc.kind;
  if (kind === 'List' && Array.isArray(doc.items)) {
    doc.items = doc.items.map((i) => injectDoc(i, options, report));
    return doc;
  }
  if (kind === 'Pod') return injectPodLike(doc, describe(doc), options, report);
  const spec = isObj(doc.spec) ? doc.spec : undefined;
  let holder: Obj | undefined;
  if (typeof kind === 'string' && TEMPLATE_KINDS.has(kind)) holder = spec;
  else if (kind === 'CronJob' && isObj(spec?.jobTemplate) && isObj(spec.jobTemplate.spec)) holder = spec.jobTemplate.spec;
  if (holder && isObj(holder.template)) holder.template = injectPodLike(holder.template, describe(doc), options, report);
  return doc;
}

/** A Pod or a pod template: both have metadata and spec. */
function injectPodLike(podLike: Obj, name: string, options: InjectOptions, report: ManifestReport): Obj {
  try {
    const pod = { metadata: podLike.metadata ?? {}, spec: podLike.spec } as V1Pod;
    const result = buildPodPatch(pod, options);
    if (result.action === 'skip') {
      report.skipped.push(`${name}: ${result.reason}`);
      return podLike;
    }
    const out = applyJsonPatch(pod, result.patch);
    report.injected.push(name);
    report.warnings.push(...result.warnings.map((w) => `${name}: ${w}`));
    return { ...podLike, metadata: out.metadata, spec: out.spec };
  } catch (err) {
    if (!(err instanceof InjectionError)) throw err;
    report.errors.push(...err.problems.map((p) => `${name}: ${p}`));
    return podLike;
  }
}
