/**
 * Model names (route names and aliases) are one namespace-wide set: a name
 * selects exactly one route. When two LLMRoutes want the same name, the
 * older one (creation time, then name) keeps it and the newer one is
 * refused whole. Pure.
 */
export interface Claimant {
  name: string;
  creationTimestamp?: string | undefined;
  aliases: readonly string[];
}

export interface NameConflict {
  /** The model name wanted twice. */
  modelName: string;
  /** The LLMRoute that holds it. */
  heldBy: string;
}

/** Older first: creation time, then name (for equal or missing timestamps). */
export function byAge(a: Pick<Claimant, 'name' | 'creationTimestamp'>, b: Pick<Claimant, 'name' | 'creationTimestamp'>): number {
  const ta = a.creationTimestamp ? Date.parse(a.creationTimestamp) : Number.POSITIVE_INFINITY;
  const tb = b.creationTimestamp ? Date.parse(b.creationTimestamp) : Number.POSITIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Decides, for each claimant, whether it gets all its names. Claimants are
 * taken oldest first; one that wants a name already held is refused and
 * claims nothing, so it cannot block anyone else.
 */
export function resolveNameClaims(claimants: readonly Claimant[]): Map<string, NameConflict | undefined> {
  const held = new Map<string, string>();
  const out = new Map<string, NameConflict | undefined>();
  for (const c of [...claimants].sort(byAge)) {
    const wanted = [c.name, ...c.aliases];
    const taken = wanted.find((n) => held.has(n) && held.get(n) !== c.name);
    if (taken !== undefined) {
      out.set(c.name, { modelName: taken, heldBy: held.get(taken)! });
      continue;
    }
    for (const n of wanted) held.set(n, c.name);
    out.set(c.name, undefined);
  }
  return out;
}
