/**
 * Where a target's API key lives in the rendered credentials Secret, and so
 * in the sidecar's mounted folder.
 *
 * The sidecar mounts one projected volume at /etc/llmroute holding the
 * ConfigMap `llmroute-config` and the Secret `llmroute-credentials`. A
 * projected source can put keys under a subfolder only through `items`,
 * which must name every key up front; the Secret's keys change whenever
 * routes or targets change, and the pod spec cannot follow them. Without
 * `items` every key lands at the root of the volume, next to config.yaml.
 * So the key files sit at the root and their names must be unambiguous
 * among themselves and distinct from `config.yaml`:
 *
 *   <namespace>.<route>_<target>
 *
 * A namespace is a DNS label (no '.' and no '_'), an LLMRoute name is a DNS
 * subdomain (may hold '.', never '_'), so the first '.' ends the namespace
 * and the first '_' after it ends the route; the rest is the target name.
 * Secret keys allow [-._a-zA-Z0-9] and at most 253 characters.
 */
export const MAX_SECRET_KEY_LENGTH = 253;

export function credentialFileKey(namespace: string, route: string, target: string): string {
  return `${namespace}.${route}_${target}`;
}

/** The parts of a file key, or undefined when it is not one. Inverse of credentialFileKey. */
export function parseCredentialFileKey(key: string): { namespace: string; route: string; target: string } | undefined {
  const dot = key.indexOf('.');
  if (dot <= 0) return undefined;
  const underscore = key.indexOf('_', dot + 1);
  if (underscore <= dot + 1 || underscore === key.length - 1) return undefined;
  return { namespace: key.slice(0, dot), route: key.slice(dot + 1, underscore), target: key.slice(underscore + 1) };
}
