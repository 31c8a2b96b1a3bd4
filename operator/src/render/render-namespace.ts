/**
 * Renders one namespace: its LLMRoutes and Secrets in, the sidecar's
 * config.yaml, the credentials Secret's data and every route's status out.
 * Pure: the clock comes in as `now`.
 *
 * A route is rendered when its spec is valid, its model names are its own
 * and every Secret reference resolves; otherwise it is left out (with the
 * reason in its conditions) and the other routes are unaffected.
 */
import { llmRouteSpecSchema } from '../../../api/v1alpha1/schema.ts';
import type { ConfigRoute, LLMRoute, LLMRouteSpec } from '../../../api/v1alpha1/types.ts';
import { validate } from '../../../api/v1alpha1/validate.ts';
import { RenderInputError } from '../errors.ts';
import { draft, mergeConditions, metaTime, REASONS, type ConditionDraft } from './conditions.ts';
import { configFileYaml } from './config-yaml.ts';
import { credentialFileKey, MAX_SECRET_KEY_LENGTH } from './credential-key.ts';
import { DEFAULT_DESTINATIONS, keyDestinationProblems, type KeyDestinations } from './key-destinations.ts';
import { resolveNameClaims, type NameConflict } from './name-claims.ts';
import { toConfigRoute } from './route-config.ts';
import { resolveSecretRefs, type ResolvedRefs, type UnresolvedRefs } from './secret-refs.ts';
import type { NamespaceRender, NamespaceSecrets, RouteStatus } from './types.ts';

export interface RenderOptions {
  /** The time new condition transitions get. */
  now: Date;
  /** Where keys may go; default DEFAULT_DESTINATIONS. */
  keyDestinations?: KeyDestinations;
}

/** What was decided about one route, before it becomes conditions. */
type Verdict =
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'hostNotAllowed'; problems: string[]; refs: ResolvedRefs | UnresolvedRefs }
  | { kind: 'conflict'; conflict: NameConflict; refs: ResolvedRefs | UnresolvedRefs; spec: LLMRouteSpec }
  | { kind: 'unresolved'; refs: UnresolvedRefs; spec: LLMRouteSpec }
  | { kind: 'rendered'; refs: ResolvedRefs; spec: LLMRouteSpec };

export function renderNamespace(routes: readonly LLMRoute[], secrets: NamespaceSecrets, opts: RenderOptions): NamespaceRender {
  const namespace = namespaceOf(routes);
  const now = metaTime(opts.now);

  // 1. The spec, checked again (the CRD normally refuses an invalid one) with defaults filled.
  const specs = new Map<string, LLMRouteSpec>();
  const verdicts = new Map<string, Verdict>();
  for (const r of routes) {
    const checked = validate<LLMRouteSpec>(llmRouteSpecSchema, r.spec, 'spec');
    if (!checked.ok) {
      verdicts.set(r.metadata.name, { kind: 'invalid', problems: checked.problems });
      continue;
    }
    const tooLong = checked.value.targets
      .map((t) => credentialFileKey(namespace, r.metadata.name, t.name))
      .find((k) => k.length > MAX_SECRET_KEY_LENGTH);
    if (tooLong) {
      verdicts.set(r.metadata.name, {
        kind: 'invalid',
        problems: [`namespace, route and target names together are too long for a Secret key (${tooLong.length} > ${MAX_SECRET_KEY_LENGTH} characters)`],
      });
      continue;
    }
    // A key goes only where a cluster admin allowed: a refused route is never rendered and claims no model name.
    const hosts = keyDestinationProblems(checked.value.targets, opts.keyDestinations ?? DEFAULT_DESTINATIONS);
    if (hosts.length) {
      verdicts.set(r.metadata.name, { kind: 'hostNotAllowed', problems: hosts, refs: resolveSecretRefs(namespace, r.metadata.name, checked.value.targets, secrets) });
      continue;
    }
    specs.set(r.metadata.name, checked.value);
  }

  // 2. Model names: valid routes claim theirs, oldest first.
  const claims = resolveNameClaims(
    routes
      .filter((r) => specs.has(r.metadata.name))
      .map((r) => ({ name: r.metadata.name, creationTimestamp: r.metadata.creationTimestamp, aliases: specs.get(r.metadata.name)!.aliases ?? [] })),
  );

  // 3. Secret references of the routes still in.
  for (const [name, spec] of specs) {
    const refs = resolveSecretRefs(namespace, name, spec.targets, secrets);
    const conflict = claims.get(name);
    if (conflict) verdicts.set(name, { kind: 'conflict', conflict, refs, spec });
    else verdicts.set(name, refs.ok ? { kind: 'rendered', refs, spec } : { kind: 'unresolved', refs, spec });
  }

  // 4. Output.
  const configRoutes: ConfigRoute[] = [];
  const credentials: Record<string, string> = {};
  const statuses = new Map<string, RouteStatus>();
  for (const r of routes) {
    const name = r.metadata.name;
    const v = verdicts.get(name)!;
    if (v.kind === 'rendered') {
      configRoutes.push(toConfigRoute(namespace, name, v.spec));
      Object.assign(credentials, v.refs.credentials);
    }
    statuses.set(name, routeStatus(r, v, now));
  }
  const sortedCredentials: Record<string, string> = {};
  for (const k of Object.keys(credentials).sort()) sortedCredentials[k] = credentials[k]!;
  return {
    configYaml: configFileYaml(namespace, configRoutes),
    credentials: sortedCredentials,
    statuses,
    rendered: configRoutes.map((c) => c.name).sort(),
  };
}

function namespaceOf(routes: readonly LLMRoute[]): string {
  const namespaces = new Set(routes.map((r) => r.metadata.namespace ?? ''));
  if (namespaces.size > 1) throw new RenderInputError(`LLMRoutes of several namespaces given together: ${[...namespaces].join(', ')}`);
  const ns = [...namespaces][0] ?? '';
  if (routes.length && !ns) throw new RenderInputError('an LLMRoute without metadata.namespace');
  return ns;
}

function routeStatus(route: LLMRoute, v: Verdict, now: string): RouteStatus {
  const gen = route.metadata.generation;
  const drafts = conditionDrafts(v, gen);
  const status: RouteStatus = {
    targets: Array.isArray(route.spec?.targets) ? route.spec.targets.length : 0,
    conditions: mergeConditions(route.status?.conditions, drafts, now),
  };
  if (gen !== undefined) status.observedGeneration = gen;
  const first = Array.isArray(route.spec?.targets) ? route.spec.targets[0] : undefined;
  if (first && typeof first.provider === 'string' && typeof first.model === 'string') status.primary = `${first.provider}/${first.model}`;
  // Stable key order: observedGeneration, targets, primary, conditions.
  const { observedGeneration, targets, primary, conditions } = status;
  return {
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    targets,
    ...(primary !== undefined ? { primary } : {}),
    conditions,
  };
}

function conditionDrafts(v: Verdict, gen: number | undefined): ConditionDraft[] {
  switch (v.kind) {
    case 'invalid': {
      const why = `the spec is invalid: ${v.problems.join('; ')}`;
      return [
        draft('Accepted', false, REASONS.Invalid, why, gen),
        draft('ResolvedRefs', 'Unknown', REASONS.Invalid, 'Secret references are not checked while the spec is invalid', gen),
        draft('Ready', false, REASONS.NotRendered, `left out of the sidecar config: ${why}`, gen),
      ];
    }
    case 'hostNotAllowed': {
      const why = v.problems.join('; ');
      return [
        draft('Accepted', false, REASONS.HostNotAllowed, why, gen),
        refsDraft(v, gen),
        draft('Ready', false, REASONS.NotRendered, `left out of the sidecar config: ${why}`, gen),
      ];
    }
    case 'conflict': {
      const why = `model name "${v.conflict.modelName}" is already used by LLMRoute "${v.conflict.heldBy}", which is older`;
      return [
        draft('Accepted', false, REASONS.AliasConflict, why, gen),
        refsDraft(v, gen),
        draft('Ready', false, REASONS.NotRendered, `left out of the sidecar config: ${why}`, gen),
      ];
    }
    case 'unresolved':
      return [
        acceptedDraft(gen),
        refsDraft(v, gen),
        draft('Ready', false, REASONS.NotRendered, `left out of the sidecar config until its Secret references resolve: ${v.refs.problems.join('; ')}`, gen),
      ];
    case 'rendered':
      return [acceptedDraft(gen), refsDraft(v, gen), draft('Ready', true, REASONS.Rendered, 'rendered into ConfigMap llmroute-config and Secret llmroute-credentials', gen)];
  }
}

function acceptedDraft(gen: number | undefined): ConditionDraft {
  return draft('Accepted', true, REASONS.Accepted, 'the spec is valid and its model names are not used by another LLMRoute', gen);
}

/** ResolvedRefs of a route whose spec is valid (a conflicting one is checked too: it helps to know). */
function refsDraft(v: Exclude<Verdict, { kind: 'invalid' }>, gen: number | undefined): ConditionDraft {
  if (!v.refs.ok) return draft('ResolvedRefs', false, v.refs.reason, v.refs.problems.join('; '), gen);
  const n = v.refs.count;
  return draft('ResolvedRefs', true, REASONS.Resolved, n === 0 ? 'no Secret references' : n === 1 ? 'the Secret reference resolves' : `all ${n} Secret references resolve`, gen);
}
