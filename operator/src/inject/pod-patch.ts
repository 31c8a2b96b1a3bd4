/**
 * buildPodPatch: what injecting the sidecar changes in a pod, as an RFC 6902
 * JSON Patch. Pure: the same pod and options give the same patch.
 *
 * Adds the native sidecar FIRST in initContainers (so it starts before every
 * other init container and the app), the projected volume `llmroute`, the
 * empty volume `llmroute-no-token` that keeps the ServiceAccount token out of
 * the sidecar (sidecar-container.ts),
 * OPENAI_BASE_URL and ANTHROPIC_BASE_URL on each app container that does not set them, the status
 * annotation and, when the pod has none of them, Prometheus' scrape
 * annotations. The sidecar gets the cloud identity env and token mounts the
 * app containers have (cloud-identity.ts: IRSA, EKS Pod Identity,
 * GCE_METADATA_HOST).
 *
 * A pod that is not opted in gets no patch; nor does one already injected
 * (status annotation or a container named llmroute-sidecar), except for the
 * identity its app containers have and the sidecar lacks: an identity
 * webhook that ran after ours gave it to the app containers only, and the
 * API server calls us again (reinvocationPolicy: IfNeeded) to copy it.
 *
 * Bad llmroute.dev/* annotations and conflicts (a volume already named
 * `llmroute` or `llmroute-no-token`, a container port equal to the sidecar's, hostNetwork) throw an
 * InjectionError listing every problem: the webhook denies the pod with
 * that message rather than injecting something the pod did not ask for.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  ANTHROPIC_BASE_URL_ENV,
  BASE_URL_ENV,
  INJECT_LABEL,
  NO_TOKEN_VOLUME_NAME,
  PROMETHEUS_ANNOTATIONS,
  SIDECAR_CONTAINER_NAME,
  STATUS_ANNOTATION,
  STATUS_INJECTED,
  VOLUME_NAME,
} from './constants.ts';
import { appIdentity, identityPatch, missingIdentity } from './cloud-identity.ts';
import { InjectionError } from './errors.ts';
import { pointer, type JsonPatchOperation } from './json-patch.ts';
import type { InjectOptions } from './options.ts';
import { resolveSettings, type SidecarSettings } from './settings.ts';
import { noTokenVolume, sidecarContainer, sidecarVolume } from './sidecar-container.ts';

export type SkipReason = 'not-opted-in' | 'already-injected';

export type PodPatchResult =
  | { action: 'skip'; reason: SkipReason }
  | {
      action: 'patch';
      patch: JsonPatchOperation[];
      settings: SidecarSettings;
      warnings: string[];
      /** Set when the pod was already injected and the patch only adds identity env and mounts to its sidecar. */
      identityOnly?: true;
    };

export function isInjected(pod: V1Pod): boolean {
  if (pod.metadata?.annotations?.[STATUS_ANNOTATION] === STATUS_INJECTED) return true;
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return all.some((c) => c?.name === SIDECAR_CONTAINER_NAME);
}

export function isOptedIn(pod: V1Pod): boolean {
  return pod.metadata?.labels?.[INJECT_LABEL] === 'true';
}

export function buildPodPatch(pod: V1Pod, options: InjectOptions): PodPatchResult {
  const spec = pod.spec;
  if (!spec || !Array.isArray(spec.containers) || spec.containers.length === 0) {
    throw new InjectionError('inject_invalid_pod', ['the pod has no spec.containers']);
  }
  if ((options.requireLabel ?? true) && !isOptedIn(pod)) return { action: 'skip', reason: 'not-opted-in' };
  const resolved = resolveSettings(pod.metadata?.annotations, options.image, options.defaults);
  if (isInjected(pod)) return reinvocation(pod, resolved.ok ? resolved.settings : undefined);

  if (!resolved.ok) throw new InjectionError('inject_invalid_annotation', resolved.problems);
  const settings = resolved.settings;
  const conflicts = findConflicts(pod, settings);
  if (conflicts.length) throw new InjectionError('inject_conflict', conflicts);

  const patch: JsonPatchOperation[] = [];
  const warnings: string[] = [];

  // The sidecar, first among the init containers.
  const container = sidecarContainer(settings, options.imagePullPolicy);
  const identity = appIdentity(pod);
  if (identity.env.length) container.env = identity.env;
  container.volumeMounts = [...(container.volumeMounts ?? []), ...identity.volumeMounts];
  if (spec.initContainers?.length) patch.push({ op: 'add', path: pointer('spec', 'initContainers', 0), value: container });
  else patch.push({ op: spec.initContainers ? 'replace' : 'add', path: pointer('spec', 'initContainers'), value: [container] });

  // Its volumes: the config, and the empty one over the ServiceAccount token's path.
  if (spec.volumes) for (const v of [sidecarVolume(), noTokenVolume()]) patch.push({ op: 'add', path: pointer('spec', 'volumes', '-'), value: v });
  else patch.push({ op: 'add', path: pointer('spec', 'volumes'), value: [sidecarVolume(), noTokenVolume()] });

  // OPENAI_BASE_URL and ANTHROPIC_BASE_URL on every app container, each where the container does not set it.
  const baseUrls = [
    { name: BASE_URL_ENV, value: `http://127.0.0.1:${settings.port}/v1` },
    { name: ANTHROPIC_BASE_URL_ENV, value: `http://127.0.0.1:${settings.port}` },
  ];
  spec.containers.forEach((c: V1Container, i) => {
    const missing = baseUrls.filter((b) => !c.env?.some((e) => e.name === b.name));
    if (missing.length === 0) return;
    if (c.env) for (const b of missing) patch.push({ op: 'add', path: pointer('spec', 'containers', i, 'env', '-'), value: b });
    else patch.push({ op: 'add', path: pointer('spec', 'containers', i, 'env'), value: missing });
    if (c.envFrom?.length) {
      for (const b of missing) warnings.push(`container ${c.name}: ${b.name} was set to ${b.value}; it overrides a value from envFrom, if any`);
    }
  });

  // Annotations: the status, and Prometheus' scrape hints unless the pod has its own.
  const existing = pod.metadata?.annotations;
  const added: Record<string, string> = { [STATUS_ANNOTATION]: STATUS_INJECTED };
  if (!Object.values(PROMETHEUS_ANNOTATIONS).some((k) => existing?.[k] !== undefined)) {
    added[PROMETHEUS_ANNOTATIONS.scrape] = 'true';
    added[PROMETHEUS_ANNOTATIONS.port] = String(settings.adminPort);
    added[PROMETHEUS_ANNOTATIONS.path] = '/metrics';
  }
  if (!pod.metadata) {
    patch.push({ op: 'add', path: pointer('metadata'), value: { annotations: added } });
  } else if (!existing) {
    patch.push({ op: 'add', path: pointer('metadata', 'annotations'), value: added });
  } else {
    for (const [k, v] of Object.entries(added)) patch.push({ op: 'add', path: pointer('metadata', 'annotations', k), value: v });
  }

  return { action: 'patch', patch, settings, warnings };
}

/** An injected pod: the identity env and mounts its sidecar lacks, or nothing. */
function reinvocation(pod: V1Pod, settings: SidecarSettings | undefined): PodPatchResult {
  const skip: PodPatchResult = { action: 'skip', reason: 'already-injected' };
  const spec = pod.spec!;
  const at =
    (spec.initContainers ?? []).findIndex((c) => c?.name === SIDECAR_CONTAINER_NAME) >= 0
      ? { field: 'initContainers', i: spec.initContainers!.findIndex((c) => c?.name === SIDECAR_CONTAINER_NAME) }
      : { field: 'containers', i: spec.containers.findIndex((c) => c?.name === SIDECAR_CONTAINER_NAME) };
  // Injected by the annotation alone (the sidecar taken out), or annotations a webhook would deny: leave it.
  if (at.i < 0 || !settings) return skip;
  const sidecar = (at.field === 'initContainers' ? spec.initContainers! : spec.containers)[at.i]!;
  const patch = identityPatch(sidecar, ['spec', at.field, at.i], missingIdentity(sidecar, appIdentity(pod)));
  return patch.length ? { action: 'patch', patch, settings, warnings: [], identityOnly: true } : skip;
}

function findConflicts(pod: V1Pod, s: SidecarSettings): string[] {
  const problems: string[] = [];
  const spec = pod.spec!;
  for (const name of [VOLUME_NAME, NO_TOKEN_VOLUME_NAME]) {
    if (spec.volumes?.some((v) => v.name === name)) problems.push(`the pod already has a volume named '${name}'`);
  }
  if (spec.hostNetwork) {
    problems.push(`the pod uses hostNetwork: the sidecar's ports ${s.port} and ${s.adminPort} would be the node's; inject pods on the pod network only`);
  }
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const p of c.ports ?? []) {
      if (p.containerPort === s.port || p.containerPort === s.adminPort) {
        problems.push(
          `container ${c.name} uses port ${p.containerPort}, which the sidecar needs; move the sidecar with the annotations llmroute.dev/port and llmroute.dev/admin-port`,
        );
      }
    }
  }
  return problems;
}
