/**
 * The pod's cloud identity, as the clouds' identity webhooks give it to the
 * app containers, for the sidecar to have the same (its bedrock and vertex
 * targets may run on it, without a Secret). Pure.
 *
 * - IRSA (the EKS pod-identity webhook, for a ServiceAccount annotated
 *   eks.amazonaws.com/role-arn): AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE,
 *   AWS_REGION, AWS_DEFAULT_REGION, AWS_STS_REGIONAL_ENDPOINTS, and the
 *   projected token volume `aws-iam-token` mounted at
 *   /var/run/secrets/eks.amazonaws.com/serviceaccount.
 * - EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_FULL_URI,
 *   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and the volume
 *   `eks-pod-identity-token`.
 * - GKE Workload Identity: nothing in the pod (the metadata server answers
 *   every container); GCE_METADATA_HOST when the pod sets one.
 *
 * The env vars are copied as the app container has them (value or
 * valueFrom), from the first app container that has each; the mounts of
 * those volumes likewise, when the pod has the volume.
 */
import type { V1Container, V1EnvVar, V1Pod, V1VolumeMount } from '@kubernetes/client-node';
import { pointer, type JsonPatchOperation } from './json-patch.ts';

export const IDENTITY_ENV = [
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_STS_REGIONAL_ENDPOINTS',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'GCE_METADATA_HOST',
] as const;

export const IDENTITY_VOLUMES = ['aws-iam-token', 'eks-pod-identity-token'] as const;

export interface CloudIdentity {
  env: V1EnvVar[];
  volumeMounts: V1VolumeMount[];
}

/** What the app containers (spec.containers) have of the identity env and mounts. */
export function appIdentity(pod: V1Pod): CloudIdentity {
  const env = new Map<string, V1EnvVar>();
  const mounts = new Map<string, V1VolumeMount>();
  const volumes = new Set((pod.spec?.volumes ?? []).map((v) => v.name));
  for (const c of pod.spec?.containers ?? []) {
    for (const e of c.env ?? []) {
      if ((IDENTITY_ENV as readonly string[]).includes(e.name) && !env.has(e.name)) env.set(e.name, structuredClone(e));
    }
    for (const m of c.volumeMounts ?? []) {
      if ((IDENTITY_VOLUMES as readonly string[]).includes(m.name) && volumes.has(m.name) && !mounts.has(m.name)) {
        mounts.set(m.name, { name: m.name, mountPath: m.mountPath, readOnly: true });
      }
    }
  }
  // In the order of the lists, whatever order the containers had them in.
  return {
    env: IDENTITY_ENV.flatMap((n) => (env.has(n) ? [env.get(n)!] : [])),
    volumeMounts: IDENTITY_VOLUMES.flatMap((n) => (mounts.has(n) ? [mounts.get(n)!] : [])),
  };
}

/** The part of `identity` that `container` lacks (an env var by name; a mount by volume name or path). */
export function missingIdentity(container: V1Container, identity: CloudIdentity): CloudIdentity {
  const names = new Set((container.env ?? []).map((e) => e.name));
  const mounted = container.volumeMounts ?? [];
  return {
    env: identity.env.filter((e) => !names.has(e.name)),
    volumeMounts: identity.volumeMounts.filter((m) => !mounted.some((x) => x.name === m.name || x.mountPath === m.mountPath)),
  };
}

/** JSON Patch operations that add `add` to the container at `path` (e.g. /spec/initContainers/0). */
export function identityPatch(container: V1Container, path: Array<string | number>, add: CloudIdentity): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  const append = (field: 'env' | 'volumeMounts', values: unknown[]): void => {
    if (!values.length) return;
    if (container[field]) for (const v of values) ops.push({ op: 'add', path: pointer(...path, field, '-'), value: v });
    else ops.push({ op: 'add', path: pointer(...path, field), value: values });
  };
  append('env', add.env);
  append('volumeMounts', add.volumeMounts);
  return ops;
}
