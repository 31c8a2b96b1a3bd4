import { draft, mergeConditions } from './conditions.ts';
import { statusChanged } from './status-diff.ts';
import type { RouteStatus } from './types.ts';

const T = '2025-01-01T00:00:00Z';
const next: RouteStatus = {
  observedGeneration: 2,
  targets: 2,
  primary: 'openai/m',
  conditions: mergeConditions(undefined, [draft('Ready', true, 'Rendered', 'ok', 2)], T),
};

describe('statusChanged', () => {
  it('is false for the same status, conditions of others notwithstanding', () => {
    const current = { ...next, conditions: [...next.conditions, { type: 'Other', status: 'True' as const, reason: 'X', message: '', lastTransitionTime: T }] };
    expect(statusChanged(current, next)).toBe(false);
  });

  it('is true when any owned field differs, or there is no status yet', () => {
    expect(statusChanged(undefined, next)).toBe(true);
    expect(statusChanged({ ...next, observedGeneration: 1 }, next)).toBe(true);
    expect(statusChanged({ ...next, targets: 1 }, next)).toBe(true);
    expect(statusChanged({ ...next, primary: 'x/y' }, next)).toBe(true);
    expect(statusChanged({ ...next, conditions: [] }, next)).toBe(true);
    expect(statusChanged({ ...next, conditions: [{ ...next.conditions[0]!, message: 'old' }] }, next)).toBe(true);
  });
});
