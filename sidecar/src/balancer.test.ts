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
