import { planTargets, RoundRobinWeights } from './balancer.ts';
import type { Target } from './config/runtime-config.ts';
import { HealthRegistry } from './target-health.ts';
import { configFrom } from './testing/route.ts';

const yaml = `
routes:
- name: r
  targets:
  - {name: a, provider: openai, model: m, priority: 0, weight: 3}
  - {name: b, provider: openai, model: m, priority: 0, weight: 1}
  - {name: standby, provider: openai, model: m, priority: 0, weight: 0}
  - {name: backup, provider: anthropic, model: m, priority: 1}
`;

function setup() {
  const config = configFrom(yaml);
  const health = new HealthRegistry();
  health.adopt(config);
  const weights = new RoundRobinWeights();
  weights.adopt(config);
  const route = config.routes[0]!;
  const of = (name: string) => route.targets.find((t) => t.name === name)!;
  return { route, health, of, plan: (now = 0) => planTargets(route, health, weights, now).map((t) => t.name) };
}

describe('planTargets', () => {
  it('splits first choices by weight with a smooth round robin (3:1 → a a b a ...)', () => {
    const { plan } = setup();
    const firsts = Array.from({ length: 8 }, () => plan()[0]);
    expect(firsts.filter((n) => n === 'a')).toHaveLength(6);
    expect(firsts.filter((n) => n === 'b')).toHaveLength(2);
    // smooth: never three a's... in a row beyond the weight ratio
    expect(firsts.join(',')).toBe('a,a,b,a,a,a,b,a');
  });

  it('orders the rest: same priority by weight, then standbys, then the next priority', () => {
    const { plan } = setup();
    expect(plan()).toEqual(['a', 'b', 'standby', 'backup']);
  });

  it('skips targets whose circuit is open or that are cooling down', () => {
    const { plan, health, of } = setup();
    health.get(of('a')).breaker.trip(0);
    health.get(of('b')).cooldownUntil = 5000;
    expect(plan(100)).toEqual(['standby', 'backup']);
    expect(plan(5000)).toEqual(['b', 'standby', 'backup']);
  });

  it('uses a standby only when every weighted target of its priority is out', () => {
    const { plan, health, of } = setup();
    health.get(of('a')).breaker.trip(0);
    health.get(of('b')).breaker.trip(0);
    expect(plan(1)[0]).toBe('standby');
  });

  it('when every target is out, tries the one that comes back soonest instead of failing at once', () => {
    const { plan, health, route } = setup();
    for (const t of route.targets) health.get(t).breaker.trip(0);
    health.get(route.targets.find((t) => t.name === 'backup')!).cooldownUntil = 60_000;
    health.get(route.targets.find((t) => t.name === 'b')!).breaker.trip(-20_000); // reopens sooner
    expect(plan(1000)).toEqual(['b']);
  });
});

describe('RoundRobinWeights', () => {
  it('keeps the rotation across a reload for targets whose route and name are unchanged; others start from 0', () => {
    const config = configFrom(yaml);
    const weights = new RoundRobinWeights();
    weights.adopt(config);
    const [a, b] = config.routes[0]!.targets as [Target, Target];
    weights.of(a).current = 5;
    weights.of(b).current = -5;
    const reloaded = configFrom(yaml.replace('{name: b,', '{name: b2,'));
    weights.adopt(reloaded);
    const [a2, b2] = reloaded.routes[0]!.targets as [Target, Target];
    expect(weights.of(a2).current).toBe(5);
    expect(weights.of(b2).current).toBe(0);
    // a target of a config replaced while its request ran: a fresh weight each time, never kept
    weights.of(b).current = 7;
    expect(weights.of(b).current).toBe(0);
  });
});

describe('planTargets: rate-limit shifts and outlier ejections', () => {
  it('a target near its rate limit goes behind its healthy peers, before the standbys, until the reset', () => {
    const { plan, health, of } = setup();
    health.get(of('a')).nearLimitUntil = 5000;
    for (let i = 0; i < 4; i++) expect(plan(100)).toEqual(['b', 'a', 'standby', 'backup']);
    expect(plan(5000)[0]).toBe('a'); // the reset: back in the rotation
  });

  it('an ejected target does the same; when every weighted target is behind, they are picked among as usual', () => {
    const { plan, health, of } = setup();
    health.get(of('b')).ejectedUntil = 5000;
    expect(plan(1)).toEqual(['a', 'b', 'standby', 'backup']);
    health.get(of('a')).nearLimitUntil = 5000;
    const firsts = Array.from({ length: 8 }, () => plan(1)[0]);
    expect(firsts.filter((n) => n === 'a')).toHaveLength(6);
    expect(plan(1)).toContain('standby');
  });

  it('the only target of its priority is never skipped for being near its limit', () => {
    const { plan, health, of } = setup();
    health.get(of('backup')).nearLimitUntil = 5000;
    expect(plan(1)).toEqual(['a', 'b', 'standby', 'backup']);
  });
});

describe('planTargets: balancing least-latency', () => {
  const llYaml = yaml.replace('- name: r\n', '- name: r\n  balancing: least-latency\n');
  function ll(randoms: number[]) {
    const config = configFrom(llYaml);
    const health = new HealthRegistry();
    health.adopt(config);
    const route = config.routes[0]!;
    const of = (name: string) => route.targets.find((t) => t.name === name)!;
    let i = 0;
    const random = () => randoms[i++ % randoms.length]!;
    const plan = (now = 0, stream = true) => planTargets(route, health, new RoundRobinWeights(), now, { random, stream, affinityHash: undefined }).map((t) => t.name);
    const feed = (name: string, ms: number, kind: 'stream' | 'whole' = 'stream') => health.noteLatency(route, of(name), health.get(of(name)), kind, ms, 0);
    return { plan, feed, health, of };
  }

  it('of the two drawn by weight, the lower average goes first; the rest by cost', () => {
    // a has weight 3, b 1: r=0.1 draws a, then the second draw among the rest is b.
    const { plan, feed } = ll([0.1, 0.5]);
    feed('a', 500);
    feed('b', 100);
    expect(plan()).toEqual(['b', 'a', 'standby', 'backup']);
  });

  it('unknown targets cost the lowest known, so they get tried; streams and whole answers are balanced apart', () => {
    const { plan, feed } = ll([0.1, 0.5]);
    feed('a', 100);
    expect(plan()[0]).toBe('b'); // b unknown: costs just under a's 100, so it gets tried
    feed('b', 300);
    feed('b', 50, 'whole');
    feed('a', 400, 'whole');
    expect(plan(0, false)[0]).toBe('b');
    expect(plan(0, true)[0]).toBe('a');
  });

  it('tries in flight count against a target', () => {
    const { plan, feed, health, of } = ll([0.1, 0.5]);
    feed('a', 100);
    feed('b', 150);
    expect(plan()[0]).toBe('a');
    health.trySent(health.get(of('a')));
    expect(plan()[0]).toBe('b');
  });

  it('the draws follow the weights: with no latency known, first choices split 3:1', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    const { plan } = ll([0]);
    const config = configFrom(llYaml);
    const health = new HealthRegistry();
    health.adopt(config);
    const route = config.routes[0]!;
    let a = 0;
    for (let i = 0; i < 4000; i++) if (planTargets(route, health, new RoundRobinWeights(), 0, { random: rnd, stream: true, affinityHash: undefined })[0]!.name === 'a') a++;
    expect(a / 4000).toBeCloseTo(0.75, 1);
    expect(plan()).toHaveLength(4);
  });
});

describe('planTargets: affinity', () => {
  const affYaml = `
routes:
- name: r
  affinity: {key: header}
  targets:
  - {name: t1, provider: openai, model: m}
  - {name: t2, provider: openai, model: m}
  - {name: t3, provider: openai, model: m}
  - {name: backup, provider: openai, model: m, priority: 1}
`;
  function aff() {
    const config = configFrom(affYaml);
    const health = new HealthRegistry();
    health.adopt(config);
    const route = config.routes[0]!;
    const of = (name: string) => route.targets.find((t) => t.name === name)!;
    const weights = new RoundRobinWeights();
    weights.adopt(config);
    const plan = (key: number | undefined, now = 0) => {
      const pick = { random: () => 0.5, stream: false, affinityHash: key, affinity: undefined as string | undefined };
      const names = planTargets(route, health, weights, now, pick as never).map((t) => t.name);
      return { names, outcome: pick.affinity };
    };
    return { plan, health, of };
  }

  it('one key always plans the same order: a hit', () => {
    const { plan } = aff();
    const first = plan(12345);
    expect(first.outcome).toBe('hit');
    for (let i = 0; i < 5; i++) expect(plan(12345)).toEqual(first);
    expect(first.names.slice(3)).toEqual(['backup']);
  });

  it('health wins: with its target out, a key moves to its next in rendezvous order; others stay', () => {
    const { plan, health, of } = aff();
    const keys = Array.from({ length: 200 }, (_, i) => (i * 2654435761) >>> 0);
    const before = new Map(keys.map((k) => [k, plan(k).names]));
    health.get(of('t2')).breaker.trip(0);
    for (const k of keys) {
      const was = before.get(k)!;
      const now = plan(k, 1);
      if (was[0] === 't2') {
        expect(now.outcome).toBe('moved');
        expect(now.names[0]).toBe(was[1]);
      } else {
        expect(now.outcome).toBe('hit');
        expect(now.names[0]).toBe(was[0]);
      }
    }
  });

  it('a request without a key is balanced as usual (round robin)', () => {
    const { plan } = aff();
    expect([plan(undefined).names[0], plan(undefined).names[0], plan(undefined).names[0]]).toEqual(['t1', 't2', 't3']);
  });
});
