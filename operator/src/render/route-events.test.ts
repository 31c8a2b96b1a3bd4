import { draft, mergeConditions } from './conditions.ts';
import { routeEvents } from './route-events.ts';
import type { RouteStatus } from './types.ts';

const T = '2025-01-01T00:00:00Z';
function status(gen: number, ...drafts: ReturnType<typeof draft>[]): RouteStatus {
  return { observedGeneration: gen, targets: 1, conditions: mergeConditions(undefined, drafts, T) };
}
const ok = (gen: number) =>
  status(gen, draft('Accepted', true, 'Accepted', 'ok'), draft('ResolvedRefs', true, 'Resolved', 'ok'), draft('Ready', true, 'Rendered', 'ok'));
const missing = (gen: number, msg = 'target "a": Secret "k" not found') =>
  status(gen, draft('Accepted', true, 'Accepted', 'ok'), draft('ResolvedRefs', false, 'SecretNotFound', msg), draft('Ready', false, 'NotRendered', 'no'));

describe('routeEvents', () => {
  it('announces a first render, and each new generation rendered', () => {
    expect(routeEvents(undefined, ok(1))).toEqual([{ type: 'Normal', reason: 'Rendered', message: 'rendered generation 1 into ConfigMap llmroute-config' }]);
    expect(routeEvents(ok(1), ok(2))).toEqual([{ type: 'Normal', reason: 'Rendered', message: 'rendered generation 2 into ConfigMap llmroute-config' }]);
  });

  it('says nothing when nothing moved', () => {
    expect(routeEvents(ok(1), ok(1))).toEqual([]);
    expect(routeEvents(missing(1), missing(1))).toEqual([]);
  });

  it('warns when a reference breaks, and again when the problem changes', () => {
    expect(routeEvents(ok(1), missing(1))).toEqual([{ type: 'Warning', reason: 'SecretNotFound', message: 'target "a": Secret "k" not found' }]);
    expect(routeEvents(missing(1), missing(1, 'target "a": Secret "other" not found'))).toHaveLength(1);
  });

  it('announces the recovery', () => {
    expect(routeEvents(missing(1), ok(1))).toEqual([expect.objectContaining({ type: 'Normal', reason: 'Rendered' })]);
  });

  it('warns about an invalid or conflicting route', () => {
    const conflict = status(1, draft('Accepted', false, 'AliasConflict', 'model name "x" is taken'), draft('ResolvedRefs', true, 'Resolved', ''), draft('Ready', false, 'NotRendered', ''));
    expect(routeEvents(undefined, conflict)).toEqual([{ type: 'Warning', reason: 'AliasConflict', message: 'model name "x" is taken' }]);
    expect(routeEvents(conflict, conflict)).toEqual([]);
    expect(routeEvents(conflict, { ...conflict, observedGeneration: 2 })).toHaveLength(1);
  });
});
