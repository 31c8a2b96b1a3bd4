/**
 * The sidecar's config.yaml as text. Deterministic: the same routes give the
 * same bytes (no timestamps, fixed key order, routes sorted by name), so the
 * sidecar's fingerprint and the ConfigMap only change when a route does.
 * `version` says which format this is (a sidecar refuses a newer one).
 * listen and admin are left out: the sidecar's defaults (and its flags) rule.
 * Pure.
 */
import yaml from 'js-yaml';
import { CONFIG_FORMAT_VERSION } from '../../../api/v1alpha1/enums.ts';
import type { ConfigFile, ConfigRoute } from '../../../api/v1alpha1/types.ts';

export function configFileYaml(namespace: string, routes: readonly ConfigRoute[]): string {
  const sorted = [...routes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const file: ConfigFile = { version: CONFIG_FORMAT_VERSION, routes: sorted.map(dropUndefined) };
  const header =
    `# Rendered by llmroute-operator from the LLMRoutes of namespace ${namespace}; do not edit.\n` +
    `# Routes that are not here: kubectl get llmroutes -n ${namespace} (see their conditions).\n`;
  // Default schema on dump: it quotes every string another YAML reader could
  // take for a number, a boolean or a date ("2024-10-21", "1.5", "yes").
  return header + yaml.dump(file, { lineWidth: -1, noRefs: true, sortKeys: false });
}

/** js-yaml refuses undefined values: optional fields that are unset are left out. */
function dropUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(dropUndefined) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = dropUndefined(v);
    return out as T;
  }
  return value;
}
