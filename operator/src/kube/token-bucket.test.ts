import { FakeClock } from '../testing/fake-clock.ts';
import { TokenBucket } from './token-bucket.ts';

/** Starts n take()s and reports which have resolved. */
function takes(b: TokenBucket, n: number) {
  const done: number[] = [];
  for (let i = 0; i < n; i++) void b.take().then(() => done.push(i));
  return done;
}
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('TokenBucket', () => {
  it('lets a burst through at once, then holds the rest to the rate, in order', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ ratePerSecond: 10, burst: 3, clock });
    const done = takes(b, 6);
    await settle();
    expect(done).toEqual([0, 1, 2]);
    expect(b.waiting).toBe(3);
    await clock.advance(99);
    expect(done).toEqual([0, 1, 2]);
    await clock.advance(1);
    expect(done).toEqual([0, 1, 2, 3]);
    await clock.advance(200);
    expect(done).toEqual([0, 1, 2, 3, 4, 5]);
    expect(b.waiting).toBe(0);
  });

  it('saves up no more than the burst while idle', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ ratePerSecond: 50, burst: 100, clock });
    const first = takes(b, 100);
    await settle();
    expect(first).toHaveLength(100);
    expect(b.tokens).toBe(0);
    await clock.advance(60_000);
    expect(b.tokens).toBe(100);
    const again = takes(b, 101);
    await settle();
    expect(again).toHaveLength(100);
    await clock.advance(20);
    expect(again).toHaveLength(101);
  });

  it('a new caller waits behind those already waiting, even once a token is back', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket({ ratePerSecond: 1, burst: 1, clock });
    const done = takes(b, 2);
    await settle();
    expect(done).toEqual([0]);
    await clock.advance(1000);
    const late: string[] = [];
    void b.take().then(() => late.push('late'));
    await settle();
    expect(done).toEqual([0, 1]);
    expect(late).toEqual([]);
    await clock.advance(1000);
    expect(late).toEqual(['late']);
  });

  it('rate 0 means no limit', async () => {
    const b = new TokenBucket({ ratePerSecond: 0, burst: 1, clock: new FakeClock() });
    const done = takes(b, 1000);
    await settle();
    expect(done).toHaveLength(1000);
  });
});
