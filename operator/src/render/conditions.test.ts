import { draft, mergeConditions, metaTime, sameCondition, truncate, MAX_CONDITION_MESSAGE } from './conditions.ts';

const T1 = '2025-01-01T00:00:00Z';
const T2 = '2025-01-02T00:00:00Z';

describe('mergeConditions', () => {
  it('stamps new conditions with now', () => {
    expect(mergeConditions(undefined, [draft('Ready', true, 'Rendered', 'ok', 3)], T1)).toEqual([
      { type: 'Ready', status: 'True', reason: 'Rendered', message: 'ok', observedGeneration: 3, lastTransitionTime: T1 },
    ]);
  });

  it('keeps lastTransitionTime while the status holds, even if reason and message change', () => {
    const prev = mergeConditions(undefined, [draft('ResolvedRefs', false, 'SecretNotFound', 'a')], T1);
    const next = mergeConditions(prev, [draft('ResolvedRefs', false, 'KeyNotFound', 'b')], T2);
    expect(next[0]).toMatchObject({ reason: 'KeyNotFound', message: 'b', lastTransitionTime: T1 });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const prev = mergeConditions(undefined, [draft('Ready', false, 'NotRendered', 'x')], T1);
    expect(mergeConditions(prev, [draft('Ready', true, 'Rendered', 'y')], T2)[0]!.lastTransitionTime).toBe(T2);
    expect(mergeConditions(prev, [draft('Ready', 'Unknown', 'Invalid', 'y')], T2)[0]!.lastTransitionTime).toBe(T2);
  });

  it("returns only the drafts' types, in their order", () => {
    const prev = [{ type: 'SomeoneElses', status: 'True' as const, reason: 'X', message: '', lastTransitionTime: T1 }];
    expect(mergeConditions(prev, [draft('Accepted', true, 'Accepted', ''), draft('Ready', true, 'Rendered', '')], T2).map((c) => c.type)).toEqual(['Accepted', 'Ready']);
  });
});

describe('condition helpers', () => {
  it('caps long messages', () => {
    const long = 'x'.repeat(5000);
    expect(draft('Accepted', false, 'Invalid', long).message).toHaveLength(MAX_CONDITION_MESSAGE);
    expect(truncate('short', 10)).toBe('short');
  });

  it('formats times at second precision, as the API server stores them', () => {
    expect(metaTime(new Date('2025-06-01T12:00:00.987Z'))).toBe('2025-06-01T12:00:00Z');
  });

  it('compares conditions by instant, not by string', () => {
    const a = { type: 'Ready', status: 'True' as const, reason: 'R', message: 'm', lastTransitionTime: '2025-06-01T12:00:00Z' };
    expect(sameCondition(a, { ...a, lastTransitionTime: '2025-06-01T12:00:00.000Z' })).toBe(true);
    expect(sameCondition(a, { ...a, lastTransitionTime: '2025-06-01T12:00:01Z' })).toBe(false);
    expect(sameCondition(a, { ...a, observedGeneration: 2 })).toBe(false);
    expect(sameCondition(a, undefined)).toBe(false);
  });
});
