import { RouteBudgets } from './route-budgets.ts';
import { configFrom } from './testing/route.ts';

const t = '  targets:\n  - {name: a, provider: openai, model: m}\n';

describe('RouteBudgets: per route, kept across reloads', () => {
  it('gives every route a retry budget with the defaults and a hedge budget only with hedge', () => {
    const b = new RouteBudgets();
    const c = configFrom(`routes:\n- name: plain\n${t}- name: hedged\n  hedge: {after: 2s, budgetPercent: 5}\n${t}`);
    b.adopt(c);
    const plain = b.for(c.routes[0]!)!;
    expect(plain.hedge).toBeUndefined();
    // 3 per second over 10 s, and 20 % of 100 requests.
    for (let i = 0; i < 100; i++) plain.retry.request(0);
    expect(plain.retry.snapshot(0).limit).toBeCloseTo(50);
    const hedged = b.for(c.routes[1]!)!;
    for (let i = 0; i < 100; i++) hedged.hedge!.request(0);
    expect(hedged.hedge!.snapshot(0).limit).toBeCloseTo(5);
  });

  it('keeps the counts of a route through a reload, drops hedging and routes that left', () => {
    const b = new RouteBudgets();
    const c1 = configFrom(`routes:\n- name: r\n  hedge: {after: 2s}\n${t}- name: gone\n${t}`);
    b.adopt(c1);
    const before = b.for(c1.routes[0]!)!;
    before.retry.spend(0);
    const c2 = configFrom(`routes:\n- name: r\n  retryBudget: {percent: 50}\n${t}`);
    b.adopt(c2);
    const after = b.for(c2.routes[0]!)!;
    expect(after.retry).toBe(before.retry);
    expect(after.retry.snapshot(0).spends).toBe(1);
    expect(after.hedge).toBeUndefined();
    expect(b.for(c1.routes[1]!)).toBeUndefined();
  });
});
