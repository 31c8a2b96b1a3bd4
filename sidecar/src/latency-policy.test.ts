import { addSample, averageMs, costs, outlierVerdict, STALE_HALF_LIVES } from './latency-policy.ts';
import { HealthRegistry, type Ewma } from './target-health.ts';
import { routeWith } from './testing/route.ts';

const HALF_LIFE = 10_000;
const TAU = HALF_LIFE / Math.LN2;
const ewma = (): Ewma => ({ ms: 0, at: 0, samples: 0 });

describe('addSample', () => {
  it('takes the first sample as it is, then decays by time: one half-life later a sample weighs half', () => {
    const e = ewma();
    addSample(e, 100, 1000, TAU);
    expect(e.ms).toBe(100);
    addSample(e, 300, 1000 + HALF_LIFE, TAU);
    expect(e.ms).toBeCloseTo(200, 6);
    expect(e.samples).toBe(2);
  });

  it('samples close together each move it a little; after six half-lives of them, under 1/64 of the old value is left', () => {
    const e = ewma();
    addSample(e, 100, 0, TAU);
    addSample(e, 1100, 10, TAU);
    expect(e.ms).toBeGreaterThan(100);
    expect(e.ms).toBeLessThan(110);
    for (let t = 20; t < 60_000; t += 10) addSample(e, 1100, t, TAU);
    expect(1100 - e.ms).toBeLessThan(1000 / 64);
  });
});

const route = routeWith(['{name: a, provider: openai, model: m}', '{name: b, provider: openai, model: m}', '{name: c, provider: openai, model: m}', '{name: backup, provider: openai, model: m, priority: 1}'], 'balancing: least-latency\n  latency: {halfLife: 10s, outlierRatio: 3, ejectFor: 30s, minRequests: 5, maxEjectedPercent: 50}');

function setup() {
  const health = new HealthRegistry();
  health.adopt({ listen: { host: '', port: 0 }, admin: { host: '', port: 0 }, routes: [route], models: new Map() });
  const [a, b, c, backup] = route.targets as [typeof route.targets[0], typeof route.targets[0], typeof route.targets[0], typeof route.targets[0]];
  const feed = (t: typeof a, ms: number, n: number, now: number) => {
    let v;
    for (let i = 0; i < n; i++) v = health.noteLatency(route, t, health.get(t), 'stream', ms, now) ?? v;
    return v;
  };
  return { health, a, b, c, backup, feed };
}

describe('averageMs and costs', () => {
  it('unknown and stale averages are undefined; an unknown target costs the lowest known', () => {
    const { health, a, b, c, feed } = setup();
    expect(averageMs(health.get(a).latency, 'stream', 0, route.latency!)).toBeUndefined();
    feed(a, 200, 1, 0);
    feed(b, 50, 1, 0);
    expect(averageMs(health.get(a).latency, 'stream', 1000, route.latency!)).toBe(200);
    expect(averageMs(health.get(a).latency, 'whole', 1000, route.latency!)).toBeUndefined();
    expect(averageMs(health.get(a).latency, 'stream', STALE_HALF_LIVES * HALF_LIFE + 1, route.latency!)).toBeUndefined();
    const [ca, cb, cc] = costs([a, b, c], health, 'stream', 1000, route.latency!);
    expect([ca, cb]).toEqual([200, 50]);
    expect(cc).toBeCloseTo(50, 6);
    expect(cc).toBeLessThan(cb!);
  });

  it('tries in flight multiply the cost', () => {
    const { health, a, b, feed } = setup();
    feed(a, 100, 1, 0);
    feed(b, 150, 1, 0);
    health.trySent(health.get(a));
    health.trySent(health.get(a));
    expect(costs([a, b], health, 'stream', 0, route.latency!)).toEqual([300, 150]);
    health.tryDone(health.get(a));
    expect(costs([a, b], health, 'stream', 0, route.latency!)).toEqual([200, 150]);
  });
});

describe('outlierVerdict', () => {
  it('ejects a target above ratio × the median of its peers once both have minRequests samples', () => {
    const { health, a, b, c, feed } = setup();
    feed(a, 100, 5, 0);
    feed(b, 120, 5, 0);
    expect(feed(c, 1000, 4, 0)).toBeUndefined(); // 4 < minRequests
    expect(feed(c, 1000, 1, 0)).toEqual({ ewmaMs: 1000, medianMs: 110 });
    expect(health.get(c).ejectedUntil).toBe(30_000);
    // its averages start afresh: judged again only after minRequests more samples
    expect(health.get(c).latency!.stream.samples).toBe(0);
  });

  it('not above the ratio, not alone in its priority, and never past maxEjectedPercent or the last one', () => {
    const { health, a, b, c, backup, feed } = setup();
    feed(a, 100, 5, 0);
    feed(b, 100, 5, 0);
    expect(feed(c, 299, 5, 0)).toBeUndefined();
    expect(feed(backup, 5000, 20, 0)).toBeUndefined(); // no peer in priority 1
    // a ejected: 1 of 3 is within 50%; then b cannot be (2 of 3 > 50%)
    health.get(a).ejectedUntil = 10_000;
    feed(c, 100, 5, 1);
    expect(outlierVerdict(route, b, health, 'stream', 1)).toBeUndefined();
    feed(b, 10_000, 5, 1);
    expect(health.get(b).ejectedUntil).toBe(0);
  });

  it('outlierRatio 0 turns ejection off', () => {
    const off = routeWith(['{name: a, provider: openai, model: m}', '{name: b, provider: openai, model: m}'], 'balancing: least-latency\n  latency: {outlierRatio: 0, minRequests: 1}');
    const health = new HealthRegistry();
    health.adopt({ listen: { host: '', port: 0 }, admin: { host: '', port: 0 }, routes: [off], models: new Map() });
    const [a, b] = off.targets as [typeof off.targets[0], typeof off.targets[0]];
    health.noteLatency(off, a, health.get(a), 'stream', 10, 0);
    expect(health.noteLatency(off, b, health.get(b), 'stream', 10_000, 0)).toBeUndefined();
  });
});
