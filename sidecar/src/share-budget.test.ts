import { SLOTS, ShareBudget } from './share-budget.ts';

const policy = { ratio: 0.2, reservePerSecond: 3, windowMs: 10_000 };

describe('ShareBudget: a share of the requests over a sliding window, with a reserve', () => {
  it('allows the reserve (perSecond × window) with no traffic at all, then refuses', () => {
    const b = new ShareBudget(policy);
    let spent = 0;
    while (b.trySpend(1000)) spent++;
    expect(spent).toBe(30);
    expect(b.allows(1000)).toBe(false);
  });

  it('adds ratio × requests of the window on top of the reserve', () => {
    const b = new ShareBudget({ ...policy, reservePerSecond: 0 });
    for (let i = 0; i < 100; i++) b.request(5000);
    let spent = 0;
    while (b.trySpend(5000)) spent++;
    expect(spent).toBe(20);
    expect(b.snapshot(5000)).toEqual({ requests: 100, spends: 20, limit: 20 });
  });

  it('forgets requests and spends once they leave the window', () => {
    const b = new ShareBudget({ ...policy, reservePerSecond: 0 });
    for (let i = 0; i < 50; i++) b.request(0);
    for (let i = 0; i < 10; i++) b.spend(0);
    expect(b.allows(0)).toBe(false);
    // Still inside the window one slot before it ends.
    expect(b.snapshot(9_999)).toMatchObject({ requests: 50, spends: 10 });
    // The slot ages out whole.
    expect(b.snapshot(10_000)).toMatchObject({ requests: 0, spends: 0 });
    for (let i = 0; i < 10; i++) b.request(10_000);
    expect(b.allows(10_000)).toBe(true);
  });

  it('slides slot by slot: only the slots that aged out leave', () => {
    const b = new ShareBudget({ ratio: 1, reservePerSecond: 0, windowMs: 10_000 });
    for (let s = 0; s < SLOTS; s++) b.request(s * 1000);
    expect(b.snapshot(9_500).requests).toBe(10);
    // At 12 s the slots from 3 s on are in the window: those of 0, 1 and 2 s have left.
    expect(b.snapshot(12_000).requests).toBe(7);
    // A jump longer than the window empties it.
    expect(b.snapshot(100_000).requests).toBe(0);
  });

  it('counts a spend past the budget (a fallback still happens) so later retries see it', () => {
    const b = new ShareBudget({ ratio: 0, reservePerSecond: 0.1, windowMs: 10_000 });
    expect(b.trySpend(0)).toBe(true);
    b.spend(0);
    expect(b.snapshot(0)).toMatchObject({ spends: 2, limit: 1 });
    expect(b.allows(0)).toBe(false);
  });

  it('a clock that steps back counts in the newest slot', () => {
    const b = new ShareBudget({ ...policy, reservePerSecond: 0 });
    b.request(50_000);
    b.request(40_000);
    expect(b.snapshot(50_000).requests).toBe(2);
  });

  it('a new window starts afresh; a new ratio keeps the counts', () => {
    const b = new ShareBudget({ ...policy, reservePerSecond: 0 });
    for (let i = 0; i < 10; i++) b.request(0);
    b.setPolicy({ ratio: 0.5, reservePerSecond: 0, windowMs: 10_000 });
    expect(b.snapshot(0)).toEqual({ requests: 10, spends: 0, limit: 5 });
    b.setPolicy({ ratio: 0.5, reservePerSecond: 0, windowMs: 20_000 });
    expect(b.snapshot(0).requests).toBe(0);
  });
});
