// The new field kinds of the schema (maps, any-JSON values, sizes) through validate(), and what
// the CRD makes of them. (The CEL side is driven through the real API server in
// test/e2e/operator-crd.test.ts.)
import { describe, expect, it } from '@jest/globals';
import { toOpenApi } from './crd.ts';
import { configFileSchema, llmRouteSpecSchema, sizeBytes } from './schema.ts';
import { validate } from './validate.ts';

const target = (extra: Record<string, unknown> = {}) => ({ name: 'a', provider: 'openai', model: 'm', apiKeySecretRef: { name: 's', key: 'k' }, ...extra });
const problems = (spec: unknown) => {
  const r = validate(llmRouteSpecSchema, spec);
  return r.ok ? [] : r.problems;
};

describe('sizes', () => {
  it('reads bytes and binary suffixes, and nothing else', () => {
    expect(sizeBytes('1048576')).toBe(1048576);
    expect(sizeBytes('512Ki')).toBe(512 * 1024);
    expect(sizeBytes('32Mi')).toBe(32 * 1024 ** 2);
    expect(sizeBytes('1Gi')).toBe(1024 ** 3);
    for (const bad of ['32MB', '1.5Mi', '', 'Mi', '-1']) expect(sizeBytes(bad)).toBeNaN();
  });

  it('defaults maxRequestBody to 32Mi and refuses more than 256Mi', () => {
    const r = validate<{ maxRequestBody: string }>(llmRouteSpecSchema, { targets: [target()] });
    expect(r.ok && r.value.maxRequestBody).toBe('32Mi');
    expect(problems({ targets: [target()], maxRequestBody: '256Mi' })).toEqual([]);
    expect(problems({ targets: [target()], maxRequestBody: '257Mi' })).toEqual(['maxRequestBody: maxRequestBody must be at most 256Mi']);
    expect(problems({ targets: [target()], maxRequestBody: '1Gi' })).toEqual(['maxRequestBody: maxRequestBody must be at most 256Mi']);
    expect(problems({ targets: [target()], maxRequestBody: '32MB' })).toEqual(['maxRequestBody: "32MB" does not match ^[0-9]+(Ki|Mi|Gi)?$']);
  });
});

describe('params', () => {
  it('takes names to drop and any JSON values to set', () => {
    const set = { temperature: 1, reasoning_effort: 'low', thinking: { type: 'enabled', budget_tokens: 1024 }, stop: ['x'], seed: null };
    const r = validate<{ targets: Array<{ params: unknown }> }>(llmRouteSpecSchema, { targets: [target({ params: { drop: ['top_p', 'top_k'], set } })] });
    expect(r.ok && r.value.targets[0]!.params).toEqual({ drop: ['top_p', 'top_k'], set });
  });

  it('refuses names that are not parameter names, and too many', () => {
    expect(problems({ targets: [target({ params: { drop: ['top p'] } })] })).toEqual(['targets[0].params.drop[0]: "top p" does not match ^[A-Za-z_][A-Za-z0-9_]*$']);
    expect(problems({ targets: [target({ params: { set: { 'a-b': 1 } } })] })).toEqual(['targets[0].params: params.set: names must be parameter names (letters, digits and _)']);
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`p${i}`, i]));
    expect(problems({ targets: [target({ params: { set: many } })] })).toEqual(['targets[0].params.set: takes at most 32 entries']);
    expect(problems({ targets: [target({ params: { keep: ['x'] } })] })).toEqual(['targets[0].params.keep: unknown field (known: drop, set)']);
  });

  it('becomes a map of values the API server keeps as they are', () => {
    const params = (toOpenApi(llmRouteSpecSchema) as any).properties.targets.items.properties.params;
    expect(params.properties.set).toMatchObject({ type: 'object', maxProperties: 32, additionalProperties: { 'x-kubernetes-preserve-unknown-fields': true } });
    expect(params.properties.set.additionalProperties.type).toBeUndefined();
  });
});

describe('maxTokens and timeouts', () => {
  it('bounds maxTokens and fills firstContent and total for long generations', () => {
    expect(problems({ targets: [target({ maxTokens: 0 })] })).toEqual(['targets[0].maxTokens: must be >= 1']);
    const r = validate<{ timeouts: unknown }>(llmRouteSpecSchema, { targets: [target({ maxTokens: 64000 })] });
    expect(r.ok && r.value.timeouts).toEqual({ connect: '2s', firstByte: '15s', firstContent: '10m', idle: '30s', total: '10m' });
  });

  it('takes the same fields in the config file', () => {
    const r = validate(configFileSchema, {
      routes: [{ name: 'r', maxRequestBody: '64Mi', targets: [{ name: 'a', provider: 'anthropic', model: 'm', maxTokens: 8192, params: { drop: ['temperature'] } }] }],
    });
    expect(r.ok).toBe(true);
  });
});

describe('cloud providers: gemini and bedrock fields', () => {
  const spec = (t: Record<string, unknown>) => ({ targets: [{ name: 't', model: 'm', ...t }] });
  const problemsOf = (t: Record<string, unknown>): string[] => problems(spec(t)).map(String);
  const key = { apiKeySecretRef: { name: 's', key: 'k' } };

  it('bedrock needs a region, takes an endpoint, no baseURL, and may have no Secret (workload identity)', () => {
    expect(problemsOf({ provider: 'bedrock', region: 'us-east-1' })).toEqual([]);
    expect(problemsOf({ provider: 'bedrock', region: 'us-east-1', endpoint: 'https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com', ...key })).toEqual([]);
    expect(problemsOf({ provider: 'bedrock' }).join()).toMatch(/region is required for bedrock/);
    expect(problemsOf({ provider: 'bedrock', region: 'us-east-1', baseURL: 'https://x.example' }).join()).toMatch(/not baseURL/);
    expect(problemsOf({ provider: 'bedrock', region: 'Mars' }).join()).toMatch(/region/);
  });

  it('region and endpoint belong to bedrock only; gemini needs its key', () => {
    expect(problemsOf({ provider: 'gemini', ...key })).toEqual([]);
    expect(problemsOf({ provider: 'gemini' }).join()).toMatch(/apiKeySecretRef is required/);
    expect(problemsOf({ provider: 'gemini', region: 'us-east-1', ...key }).join()).toMatch(/only for them/);
    expect(problemsOf({ provider: 'openai', endpoint: 'https://x.example', ...key }).join()).toMatch(/endpoint is only for bedrock/);
  });

  it('the CRD carries the same rules as CEL', () => {
    const crd = JSON.stringify(toOpenApi(llmRouteSpecSchema));
    expect(crd).toContain("has(self.region) == (self.provider == 'bedrock')");
    expect(crd).toContain("self.provider in ['openai-compatible', 'bedrock', 'vertex']");
  });

  it('vertex needs project and location, only vertex takes them, and may have no Secret (workload identity)', () => {
    expect(problemsOf({ provider: 'vertex', project: 'my-project-1', location: 'us-east5' })).toEqual([]);
    expect(problemsOf({ provider: 'vertex', project: 'my-project-1', location: 'global', ...key })).toEqual([]);
    expect(problemsOf({ provider: 'vertex', project: 'my-project-1', location: 'europe-west1', baseURL: 'https://psc.example' })).toEqual([]);
    expect(problemsOf({ provider: 'vertex', location: 'us-east5' }).join()).toMatch(/project is required for vertex/);
    expect(problemsOf({ provider: 'vertex', project: 'my-project-1' }).join()).toMatch(/location is required for vertex/);
    expect(problemsOf({ provider: 'gemini', project: 'my-project-1', ...key }).join()).toMatch(/project is required for vertex targets and only for them/);
    expect(problemsOf({ provider: 'anthropic', location: 'us-east5', ...key }).join()).toMatch(/location is required for vertex targets and only for them/);
    expect(problemsOf({ provider: 'vertex', project: 'My_Project', location: 'us-east5' }).join()).toMatch(/project/);
    expect(problemsOf({ provider: 'vertex', project: 'my-project-1', location: 'US East' }).join()).toMatch(/location/);
    const crd = JSON.stringify(toOpenApi(llmRouteSpecSchema));
    expect(crd).toContain("has(self.project) == (self.provider == 'vertex')");
    expect(crd).toContain("has(self.location) == (self.provider == 'vertex')");
    expect(crd).toContain("self.provider in ['openai-compatible', 'bedrock', 'vertex']");
  });
});

describe('commit: the commit window', () => {
  it('is absent by default (a stream commits at its first content chunk) and takes its three fields as set', () => {
    const r = validate<{ commit?: unknown }>(llmRouteSpecSchema, { targets: [target()] });
    expect(r.ok && r.value.commit).toBeUndefined();
    const c = { afterTokens: 40, afterMs: '1500ms', minTokensPerSecond: 8 };
    const s = validate<{ commit?: unknown }>(llmRouteSpecSchema, { targets: [target()], commit: c });
    expect(s.ok && s.value.commit).toEqual(c);
    expect(problems({ targets: [target()], commit: { afterTokens: 20 } })).toEqual([]);
    expect(problems({ targets: [target()], commit: { afterMs: '2s' } })).toEqual([]);
  });

  it('needs a window end, positive bounds, and an afterMs inside the total deadline, with clear messages', () => {
    expect(problems({ targets: [target()], commit: {} })).toEqual(['commit: commit needs afterTokens or afterMs: the window ends at whichever comes first']);
    expect(problems({ targets: [target()], commit: { minTokensPerSecond: 5 } })).toEqual(['commit: commit needs afterTokens or afterMs: the window ends at whichever comes first']);
    expect(problems({ targets: [target()], commit: { afterMs: '0s' } })).toEqual(['commit.afterMs: commit.afterMs must be longer than 0']);
    expect(problems({ targets: [target()], commit: { afterTokens: 0 } })).toEqual(['commit.afterTokens: must be >= 1']);
    expect(problems({ targets: [target()], commit: { afterTokens: 10, minTokensPerSecond: 0 } })).toEqual(['commit.minTokensPerSecond: must be >= 1']);
    expect(problems({ targets: [target()], commit: { afterTokens: 10, minTokensPerSecond: 2.5 } })).toEqual(['commit.minTokensPerSecond: must be a whole number, not number 2.5']);
    expect(problems({ targets: [target()], commit: { afterMs: 'soon' } })).toEqual(['commit.afterMs: "soon" does not match ^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$']);
    expect(problems({ targets: [target()], commit: { afterMs: '10m' } })).toEqual(['(root): commit.afterMs must be shorter than timeouts.total']);
    expect(problems({ targets: [target()], commit: { afterMs: '30s' }, timeouts: { total: '20s' } })).toEqual(['(root): commit.afterMs must be shorter than timeouts.total']);
    expect(problems({ targets: [target()], commit: { afterTokens: 5, window: '1s' } })).toEqual(['commit.window: unknown field (known: afterTokens, afterMs, minTokensPerSecond)']);
  });

  it('takes the same fields and rules in the config file', () => {
    const route = (commit: unknown) => ({ routes: [{ name: 'r', commit, targets: [{ name: 'a', provider: 'openai-compatible', baseURL: 'http://x', model: 'm' }] }] });
    expect(validate(configFileSchema, route({ afterTokens: 30, afterMs: '1s', minTokensPerSecond: 10 })).ok).toBe(true);
    const bad = validate(configFileSchema, route({ afterMs: '11m' }));
    expect(!bad.ok && bad.problems).toEqual(['routes[0]: commit.afterMs must be shorter than timeouts.total']);
  });

  it('the CRD carries the rules as CEL', () => {
    const crd = JSON.stringify(toOpenApi(llmRouteSpecSchema));
    expect(crd).toContain('has(self.afterTokens) || has(self.afterMs)');
    expect(crd).toContain("duration(self) > duration('0s')");
    expect(crd).toContain('duration(self.commit.afterMs) < duration(self.timeouts.total)');
  });
});

describe('hedge and retryBudget (issue 13)', () => {
  it('hedge is off unless set; when set it needs after and fills maxExtra 1, budgetPercent 10, skipWithTools false', () => {
    const off = validate<{ hedge?: unknown }>(llmRouteSpecSchema, { targets: [target()] });
    expect(off.ok && off.value.hedge).toBeUndefined();
    const on = validate<{ hedge: unknown }>(llmRouteSpecSchema, { targets: [target()], hedge: { after: '2s' } });
    expect(on.ok && on.value.hedge).toEqual({ after: '2s', maxExtra: 1, budgetPercent: 10, skipWithTools: false });
    expect(problems({ targets: [target()], hedge: {} })).toEqual(['hedge.after: is required']);
  });

  it('refuses a hedge after 0s, more than 3 extra tries, and a budget outside 1..100', () => {
    expect(problems({ targets: [target()], hedge: { after: '0s' } })).toEqual(['hedge: hedge.after must be longer than 0s']);
    expect(problems({ targets: [target()], hedge: { after: '1s', maxExtra: 4 } })).toEqual(['hedge.maxExtra: must be <= 3']);
    expect(problems({ targets: [target()], hedge: { after: '1s', maxExtra: 0 } })).toEqual(['hedge.maxExtra: must be >= 1']);
    expect(problems({ targets: [target()], hedge: { after: '1s', budgetPercent: 0 } })).toEqual(['hedge.budgetPercent: must be >= 1']);
    expect(problems({ targets: [target()], hedge: { after: '1s', budgetPercent: 101 } })).toEqual(['hedge.budgetPercent: must be <= 100']);
  });

  it('retryBudget is on by default at 20 % with 3 per second over 10s, and its window is 1s..5m', () => {
    const r = validate<{ retryBudget: unknown }>(llmRouteSpecSchema, { targets: [target()] });
    expect(r.ok && r.value.retryBudget).toEqual({ percent: 20, minPerSecond: 3, window: '10s' });
    expect(problems({ targets: [target()], retryBudget: { window: '500ms' } })).toEqual(['retryBudget: retryBudget.window must be from 1s to 5m']);
    expect(problems({ targets: [target()], retryBudget: { window: '6m' } })).toEqual(['retryBudget: retryBudget.window must be from 1s to 5m']);
    expect(problems({ targets: [target()], retryBudget: { percent: -1 } })).toEqual(['retryBudget.percent: must be >= 0']);
  });

  it('the config file takes the same fields, and the CRD carries the rules as CEL', () => {
    const file = { routes: [{ name: 'r', targets: [{ name: 'a', provider: 'openai', model: 'm' }], hedge: { after: '250ms', skipWithTools: true }, retryBudget: { percent: 0 } }] };
    const r = validate<{ routes: Array<{ hedge: unknown; retryBudget: unknown }> }>(configFileSchema, file);
    expect(r.ok && r.value.routes[0]!.hedge).toEqual({ after: '250ms', maxExtra: 1, budgetPercent: 10, skipWithTools: true });
    expect(r.ok && r.value.routes[0]!.retryBudget).toEqual({ percent: 0, minPerSecond: 3, window: '10s' });
    const crd = JSON.stringify(toOpenApi(llmRouteSpecSchema));
    expect(crd).toContain("duration(self.after) > duration('0s')");
    expect(crd).toContain("duration(self.window) >= duration('1s')");
  });
});
