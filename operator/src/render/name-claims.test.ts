import { byAge, resolveNameClaims } from './name-claims.ts';

describe('resolveNameClaims', () => {
  it('gives a name to the oldest claimant; a refused one claims nothing', () => {
    const out = resolveNameClaims([
      { name: 'new', creationTimestamp: '2025-03-01T00:00:00Z', aliases: ['x', 'y'] },
      { name: 'old', creationTimestamp: '2025-01-01T00:00:00Z', aliases: ['x'] },
      { name: 'later', creationTimestamp: '2025-04-01T00:00:00Z', aliases: ['y'] },
    ]);
    expect(out.get('old')).toBeUndefined();
    expect(out.get('new')).toEqual({ modelName: 'x', heldBy: 'old' });
    // 'new' was refused, so 'y' stayed free for 'later'.
    expect(out.get('later')).toBeUndefined();
  });

  it('orders by creation time, then name; a missing time sorts last', () => {
    const list = [
      { name: 'b', creationTimestamp: '2025-01-01T00:00:00Z' },
      { name: 'z' },
      { name: 'a', creationTimestamp: '2025-01-01T00:00:00Z' },
    ].sort(byAge);
    expect(list.map((x) => x.name)).toEqual(['a', 'b', 'z']);
  });
});
