/**
 * Whether the status the operator would write differs from what the route
 * already has. Only the fields and condition types the operator owns count.
 * Pure.
 */
import type { LLMRouteStatus } from '../../../api/v1alpha1/types.ts';
import { findCondition, sameCondition } from './conditions.ts';
import type { RouteStatus } from './types.ts';

export function statusChanged(current: (LLMRouteStatus & { primary?: string }) | undefined, next: RouteStatus): boolean {
  if (!current) return true;
  if (current.observedGeneration !== next.observedGeneration) return true;
  if (current.targets !== next.targets) return true;
  if (current.primary !== next.primary) return true;
  return next.conditions.some((c) => !sameCondition(findCondition(current.conditions, c.type), c));
}
