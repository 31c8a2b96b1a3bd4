/**
 * Resolves a route's apiKeySecretRefs against the Secrets of its namespace.
 * Pure. The result names Secrets and keys, never their values.
 */
import { CREDENTIALS_LABEL, CREDENTIALS_LABEL_VALUE } from '../../../api/v1alpha1/enums.ts';
import type { LLMRouteTarget } from '../../../api/v1alpha1/types.ts';
import { REASONS } from './conditions.ts';
import { credentialFileKey } from './credential-key.ts';
import type { NamespaceSecrets } from './types.ts';

export interface ResolvedRefs {
  ok: true;
  /** file key → base64 value, one per target that has a key. */
  credentials: Record<string, string>;
  /** How many references there were. */
  count: number;
}

export interface UnresolvedRefs {
  ok: false;
  reason: typeof REASONS.SecretNotFound | typeof REASONS.KeyNotFound;
  /** One line per problem, in target order. */
  problems: string[];
}

/** A key whose value is empty (after trimming, as the sidecar reads it) counts as missing. */
function isBlank(base64: string): boolean {
  return Buffer.from(base64, 'base64').toString('utf8').trim() === '';
}

export function resolveSecretRefs(
  namespace: string,
  route: string,
  targets: readonly LLMRouteTarget[],
  secrets: NamespaceSecrets,
): ResolvedRefs | UnresolvedRefs {
  const credentials: Record<string, string> = {};
  const problems: string[] = [];
  let secretMissing = false;
  let count = 0;
  for (const t of targets) {
    const ref = t.apiKeySecretRef;
    if (!ref) continue;
    count++;
    const data = secrets.get(ref.name);
    if (!data) {
      secretMissing = true;
      problems.push(
        `target "${t.name}": Secret "${ref.name}" not found among the Secrets labelled ${CREDENTIALS_LABEL}=${CREDENTIALS_LABEL_VALUE} ` +
          `(the operator reads no other Secret, so it cannot tell a missing Secret from an unlabelled one); ` +
          `if it exists: kubectl -n ${namespace} label secret ${ref.name} ${CREDENTIALS_LABEL}=${CREDENTIALS_LABEL_VALUE}`,
      );
      continue;
    }
    const value = Object.hasOwn(data, ref.key) ? data[ref.key] : undefined;
    if (value === undefined) {
      problems.push(`target "${t.name}": key "${ref.key}" not found in Secret "${ref.name}"`);
      continue;
    }
    if (isBlank(value)) {
      problems.push(`target "${t.name}": key "${ref.key}" in Secret "${ref.name}" is empty`);
      continue;
    }
    credentials[credentialFileKey(namespace, route, t.name)] = value;
  }
  if (problems.length) return { ok: false, reason: secretMissing ? REASONS.SecretNotFound : REASONS.KeyNotFound, problems };
  return { ok: true, credentials, count };
}

/** The Secret names a set of targets refer to. */
export function referencedSecretNames(targets: readonly Partial<LLMRouteTarget>[] | undefined): string[] {
  const names = new Set<string>();
  for (const t of targets ?? []) if (t?.apiKeySecretRef?.name) names.add(t.apiKeySecretRef.name);
  return [...names];
}
