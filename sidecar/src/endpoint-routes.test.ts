import { BadRequestError } from './errors.ts';
import { bodyReadCap, routeForEndpoint } from './endpoint-routes.ts';
import { configFrom, routeWith } from './testing/route.ts';

const openai = '{name: a, provider: openai, model: m, apiKey: {value: k}}';
const claude = '{name: c, provider: anthropic, model: m, priority: 1, apiKey: {value: k}}';
const local = '{name: l, provider: openai-compatible, baseURL: "http://127.0.0.1:1/v1", model: m, priority: 2}';

describe('routeForEndpoint', () => {
  it('chat and embeddings: the route itself', () => {
    const r = routeWith([openai, claude]);
    expect(routeForEndpoint('chat', r)).toBe(r);
    expect(routeForEndpoint('embeddings', r)).toBe(r);
  });

  it('completions: the anthropic targets are left out, the rest keep their order; one view per route', () => {
    const r = routeWith([openai, claude, local]);
    const view = routeForEndpoint('completions', r);
    expect(view.targets.map((t) => t.name)).toEqual(['a', 'l']);
    expect(view.targets[0]).toBe(r.targets[0]);
    expect(view.name).toBe('r');
    expect(routeForEndpoint('completions', r)).toBe(view);
    const all = routeWith([openai, local]);
    expect(routeForEndpoint('completions', all)).toBe(all);
  });

  it('completions on a route of anthropic targets only: a 400 naming the route and why', () => {
    const r = routeWith([claude]);
    let err: unknown;
    try {
      routeForEndpoint('completions', r);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message).toBe(
      "route 'r' cannot serve /v1/completions: none of its targets speaks OpenAI's legacy Completions API (its providers: anthropic); use /v1/chat/completions",
    );
  });
});

describe('bodyReadCap', () => {
  it("is the largest route's maxRequestBody (default 32Mi)", () => {
    expect(bodyReadCap(configFrom(`routes:\n- name: r\n  targets:\n  - ${openai}\n`))).toBe(32 * 2 ** 20);
    const two = configFrom(`routes:\n- name: r\n  maxRequestBody: 1Mi\n  targets:\n  - ${openai}\n- name: s\n  maxRequestBody: 100Mi\n  targets:\n  - ${openai}\n`);
    expect(bodyReadCap(two)).toBe(100 * 2 ** 20);
    expect(two.routes[0]!.maxRequestBytes).toBe(2 ** 20);
  });
});
