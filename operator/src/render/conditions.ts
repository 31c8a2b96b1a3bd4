/**
 * The three conditions every LLMRoute gets (metav1.Condition shape) and
 * the merge that keeps lastTransitionTime unless a status really flips.
 * Pure.
 */
import type { Condition } from '../../../api/v1alpha1/types.ts';

export const CONDITION_TYPES = ['Accepted', 'ResolvedRefs', 'Ready'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const REASONS = {
  Accepted: 'Accepted',
  Invalid: 'Invalid',
  AliasConflict: 'AliasConflict',
  HostNotAllowed: 'HostNotAllowed',
  Resolved: 'Resolved',
  SecretNotFound: 'SecretNotFound',
  KeyNotFound: 'KeyNotFound',
  Rendered: 'Rendered',
  NotRendered: 'NotRendered',
} as const;

/** A condition before the merge gives it a lastTransitionTime. */
export type ConditionDraft = Omit<Condition, 'lastTransitionTime'>;

/** The longest message a condition carries (the CRD allows 32768). */
export const MAX_CONDITION_MESSAGE = 1024;

export function draft(type: ConditionType, ok: boolean | 'Unknown', reason: string, message: string, observedGeneration?: number): ConditionDraft {
  const c: ConditionDraft = {
    type,
    status: ok === 'Unknown' ? 'Unknown' : ok ? 'True' : 'False',
    reason,
    message: truncate(message, MAX_CONDITION_MESSAGE),
  };
  if (observedGeneration !== undefined) c.observedGeneration = observedGeneration;
  return c;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Gives each draft a lastTransitionTime: the previous condition's of the same
 * type when its status is unchanged, else `now`. Only the drafts' types are
 * returned, in the drafts' order; conditions of other types (set by someone
 * else) are not ours to write.
 */
export function mergeConditions(previous: readonly Condition[] | undefined, drafts: readonly ConditionDraft[], now: string): Condition[] {
  return drafts.map((d) => {
    const before = previous?.find((p) => p.type === d.type);
    const lastTransitionTime = before && before.status === d.status && before.lastTransitionTime ? before.lastTransitionTime : now;
    return { ...d, lastTransitionTime };
  });
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Whether two conditions say the same thing (every field, lastTransitionTime included). */
export function sameCondition(a: Condition | undefined, b: Condition | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration &&
    sameInstant(a.lastTransitionTime, b.lastTransitionTime)
  );
}

/** The API server stores times at second precision: compare instants, not strings. */
function sameInstant(a: string, b: string): boolean {
  if (a === b) return true;
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  return Number.isFinite(ta) && Number.isFinite(tb) && Math.floor(ta / 1000) === Math.floor(tb / 1000);
}

/** metav1.Time: RFC 3339 at second precision, as the API server stores it. */
export function metaTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
