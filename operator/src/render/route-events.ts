/**
 * The Kubernetes Events an LLMRoute gets, derived from how its conditions
 * moved: a warning when it becomes invalid, conflicting or unresolved (or
 * the problem changes), a normal event when a new generation or a recovered
 * route is rendered. Derived from the status, so repeated reconciles of an
 * unchanged route emit nothing. Messages are the conditions' messages:
 * names of Secrets and keys, never values. Pure.
 */
import type { Condition } from '../../../api/v1alpha1/types.ts';
import { findCondition, REASONS, truncate } from './conditions.ts';
import type { RouteStatus } from './types.ts';

export interface RouteEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Event messages are capped (events.k8s.io allows 1 KiB in a note). */
export const MAX_EVENT_MESSAGE = 1024;

export function routeEvents(
  previous: { observedGeneration?: number | undefined; conditions?: readonly Condition[] | undefined } | undefined,
  next: RouteStatus,
): RouteEvent[] {
  const events: RouteEvent[] = [];
  const newGeneration = previous?.observedGeneration !== next.observedGeneration;
  const moved = (type: 'Accepted' | 'ResolvedRefs' | 'Ready'): boolean => {
    const before = findCondition(previous?.conditions, type);
    const after = findCondition(next.conditions, type);
    if (!after) return false;
    return !before || before.status !== after.status || before.reason !== after.reason || before.message !== after.message;
  };

  const accepted = findCondition(next.conditions, 'Accepted');
  const refs = findCondition(next.conditions, 'ResolvedRefs');
  const ready = findCondition(next.conditions, 'Ready');

  if (accepted?.status === 'False' && (moved('Accepted') || newGeneration)) {
    events.push(warning(accepted.reason, accepted.message));
  }
  if (refs?.status === 'False' && (refs.reason === REASONS.SecretNotFound || refs.reason === REASONS.KeyNotFound) && (moved('ResolvedRefs') || newGeneration)) {
    events.push(warning(refs.reason, refs.message));
  }
  const wasReady = findCondition(previous?.conditions, 'Ready')?.status === 'True';
  if (ready?.status === 'True' && (!wasReady || newGeneration)) {
    const gen = next.observedGeneration !== undefined ? ` generation ${next.observedGeneration}` : '';
    events.push({ type: 'Normal', reason: REASONS.Rendered, message: `rendered${gen} into ConfigMap llmroute-config` });
  }
  return events;
}

function warning(reason: string, message: string): RouteEvent {
  return { type: 'Warning', reason, message: truncate(message, MAX_EVENT_MESSAGE) };
}
