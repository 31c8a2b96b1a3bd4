// The picking fields of a route (issue 13) from the config file: defaults, what they compile to, and the problems named.
import { ConfigError } from '../errors.ts';
import { parseConfig } from './load-config.ts';

const route = (extra: string) => `
routes:
- name: chat
  targets:
  - {name: a, provider: openai, model: m, apiKey: {value: sk-test-123}}
  - {name: b, provider: openai, model: m, apiKey: {value: sk-test-123}}
${extra}`;

function problems(text: string): string[] {
  try {
    parseConfig(text, '/nowhere', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('picking fields', () => {
  it('default: weighted balancing, rate-limit awareness on at 5%, no affinity', () => {
    const r = parseConfig(route(''), '/x', {}).config.routes[0]!;
    expect(r.balancing).toBe('weighted');
    expect(r.latency).toBeUndefined();
    expect(r.rateLimit).toEqual({ minRemainingShare: 0.05 });
    expect(r.affinity).toBeUndefined();
  });

  it('least-latency compiles its latency policy with defaults', () => {
    const r = parseConfig(route('  balancing: least-latency'), '/x', {}).config.routes[0]!;
    expect(r.latency).toEqual({ tauMs: 10_000 / Math.LN2, outlierRatio: 3, ejectForMs: 30_000, minRequests: 20, maxEjectedShare: 0.5 });
    const t = parseConfig(route('  balancing: least-latency\n  latency: {halfLife: 2s, outlierRatio: 0, ejectFor: 1m, minRequests: 5, maxEjectedPercent: 20}'), '/x', {}).config.routes[0]!;
    expect(t.latency).toEqual({ tauMs: 2000 / Math.LN2, outlierRatio: 0, ejectForMs: 60_000, minRequests: 5, maxEjectedShare: 0.2 });
  });

  it('rateLimitAware: off, or another threshold', () => {
    expect(parseConfig(route('  rateLimitAware: {enabled: false}'), '/x', {}).config.routes[0]!.rateLimit).toBeUndefined();
    expect(parseConfig(route('  rateLimitAware: {minRemainingPercent: 20}'), '/x', {}).config.routes[0]!.rateLimit).toEqual({ minRemainingShare: 0.2 });
  });

  it('affinity: the header lower-cased and its default, prefixChars defaulted', () => {
    expect(parseConfig(route('  affinity: {key: header}'), '/x', {}).config.routes[0]!.affinity).toEqual({ key: 'header', header: 'x-llmroute-session', prefixChars: 1024 });
    expect(parseConfig(route('  affinity: {key: header, header: X-Conversation-Id}'), '/x', {}).config.routes[0]!.affinity!.header).toBe('x-conversation-id');
    expect(parseConfig(route('  affinity: {key: promptPrefix, prefixChars: 4096}'), '/x', {}).config.routes[0]!.affinity).toEqual({ key: 'promptPrefix', header: 'x-llmroute-session', prefixChars: 4096 });
  });

  it('names each bad field', () => {
    expect(problems(route('  balancing: fastest'))).toEqual(['routes[0].balancing: must be one of weighted, least-latency, not "fastest"']);
    expect(problems(route('  affinity: {}'))).toEqual(['routes[0].affinity.key: is required']);
    expect(problems(route('  affinity: {key: user, header: x-s}'))).toEqual(['routes[0].affinity: affinity.header is only for key: header']);
    expect(problems(route('  affinity: {key: header, header: "x s"}'))[0]).toMatch(/^routes\[0\]\.affinity\.header: "x s" does not match/);
    expect(problems(route('  affinity: {key: promptPrefix, prefixChars: 8}'))).toEqual(['routes[0].affinity.prefixChars: must be >= 16']);
    expect(problems(route('  rateLimitAware: {minRemainingPercent: 80}'))).toEqual(['routes[0].rateLimitAware.minRemainingPercent: must be <= 50']);
    expect(problems(route('  latency: {outlierRatio: 1}'))).toEqual(['routes[0].latency: latency.outlierRatio must be 0 (no ejection) or at least 2']);
    expect(problems(route('  latency: {halfLife: soon}'))[0]).toMatch(/^routes\[0\]\.latency\.halfLife: "soon" does not match/);
  });
});
