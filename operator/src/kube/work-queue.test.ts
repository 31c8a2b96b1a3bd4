import { FakeClock } from '../testing/fake-clock.ts';
import { WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  it('hands a key out once however often it was added', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.depth).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.depth).toBe(0);
  });

  it('never hands out a key being processed; one added meanwhile comes back after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    q.add('a');
    expect(q.depth).toBe(0);
    q.done(key!);
    expect(q.depth).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.depth).toBe(0);
  });

  it("hands out 'low' keys after every other, and an ordinary add moves a low key up", async () => {
    const q = new WorkQueue();
    for (const ns of ['r1', 'r2', 'r3']) q.add(ns, 'low');
    q.add('changed');
    q.add('r3');
    q.add('r1', 'low');
    expect(q.depth).toBe(4);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const k = (await q.get())!;
      order.push(k);
      q.done(k);
    }
    expect(order).toEqual(['changed', 'r3', 'r1', 'r2']);
    // A low add of a key being processed waits as low; an ordinary one meanwhile wins.
    q.add('busy');
    const busy = (await q.get())!;
    q.add('busy', 'low');
    q.add('other', 'low');
    q.add('busy');
    q.done(busy);
    expect(await q.get()).toBe('busy');
  });

  it('demote() moves waiting keys behind the rest', async () => {
    const q = new WorkQueue();
    for (const k of ['a', 'b', 'c']) q.add(k);
    q.demote((k) => k === 'c');
    q.add('d', 'low');
    q.add('b');
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await q.get())!);
    expect(order).toEqual(['c', 'b', 'a', 'd']);
  });

  it('wakes a waiting worker', async () => {
    const q = new WorkQueue();
    const got = q.get();
    q.add('x');
    expect(await got).toBe('x');
  });

  it('lets a waiting get() go on abort or shutdown', async () => {
    const q = new WorkQueue();
    const ac = new AbortController();
    const got = q.get(ac.signal);
    ac.abort();
    expect(await got).toBeUndefined();
    // The aborted waiter must not swallow the next key.
    q.add('k');
    expect(await q.get()).toBe('k');
    const later = q.get();
    q.shutDown();
    expect(await later).toBeUndefined();
    q.add('ignored');
    expect(q.depth).toBe(0);
  });

  it('re-adds failed keys with a growing backoff, and forget() resets it', async () => {
    const depths: number[] = [];
    const clock = new FakeClock();
    const q = new WorkQueue({ backoff: { baseMs: 20, maxMs: 1000 }, onDepth: (d) => depths.push(d), clock });
    expect(q.addRateLimited('a')).toBe(20);
    expect(q.addRateLimited('a')).toBe(40);
    expect(q.failures('a')).toBe(2);
    expect(q.depth).toBe(0);
    await clock.advance(40);
    // The sooner of the two pending adds won; the key is there once.
    expect(q.depth).toBe(1);
    await clock.advance(40);
    expect(q.depth).toBe(1);
    q.forget('a');
    expect(q.failures('a')).toBe(0);
    expect(q.addRateLimited('a')).toBe(20);
    expect(depths.at(-1)).toBe(1);
    q.shutDown();
  });
});
