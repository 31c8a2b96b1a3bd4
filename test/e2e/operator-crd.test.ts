// The LLMRoute CRD as the real API server enforces it: schema and CEL rules
// refuse invalid specs with the rule's message, defaults are filled in by
// the server, and the printer columns are served.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { KubeClient } from '../../operator/src/kube/kube-client.ts';
import { KubeApiError } from '../../operator/src/errors.ts';
import { llmRoutesPath, llmRouteStatusPath } from '../../operator/src/kube/paths.ts';
import { adminKubeConfig, createNamespace, deleteNamespace, uniqueName } from './harness/kube.ts';
import { llmRouteSpecSchema } from '../../api/v1alpha1/schema.ts';
import { validate } from '../../api/v1alpha1/validate.ts';

const openai = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  provider: 'openai',
  model: 'gpt-4o-mini',
  apiKeySecretRef: { name: 'k', key: 'apiKey' },
  ...extra,
});

jest.setTimeout(60_000);

describe('LLMRoute CRD (through the API server)', () => {
  let ns: string;
  let api: KubeClient;

  beforeAll(async () => {
    ns = await createNamespace(uniqueName('crd'));
    api = new KubeClient(adminKubeConfig());
  });
  afterAll(async () => {
    api.close();
    await deleteNamespace(ns);
  });

  const create = (name: string, spec: unknown) =>
    api.request<any>('POST', llmRoutesPath(ns), { body: { apiVersion: 'llmroute.dev/v1alpha1', kind: 'LLMRoute', metadata: { name }, spec } });

  async function rejection(spec: unknown): Promise<KubeApiError> {
    try {
      await create(uniqueName('bad'), spec);
    } catch (err) {
      if (err instanceof KubeApiError) return err;
      throw err;
    }
    throw new Error('the API server accepted an invalid LLMRoute');
  }

  it.each([
    ['no targets', { targets: [] }, /spec.targets: Invalid value: \d+: spec.targets in body should have at least 1 items/],
    ['no targets field at all', {}, /spec.targets: Required value/],
    ['duplicate target names', { targets: [openai('a'), openai('a')] }, /target names must be unique within a route/],
    [
      'openai-compatible without baseURL',
      { targets: [{ name: 'local', provider: 'openai-compatible', model: 'llama' }] },
      /baseURL is required for openai-compatible and azure-openai targets/,
    ],
    ['azure-openai without baseURL', { targets: [{ ...openai('az'), provider: 'azure-openai' }] }, /baseURL is required for openai-compatible and azure-openai targets/],
    ['negative weight', { targets: [openai('a', { weight: -1 })] }, /spec.targets\[0\].weight: Invalid value: -1: spec.targets\[0\].weight in body should be greater than or equal to 0/],
    ['apiVersion on a non-azure target', { targets: [openai('a', { apiVersion: '2024-10-21' })] }, /apiVersion is only for azure-openai targets/],
    ['a bad duration', { targets: [openai('a')], timeouts: { connect: '2 seconds' } }, /spec.timeouts.connect in body should match/],
    ['a key-less openai target', { targets: [{ name: 'a', provider: 'openai', model: 'm' }] }, /apiKeySecretRef is required except for openai-compatible and bedrock and vertex targets/],
    ['backoff.initial > backoff.max', { targets: [openai('a')], retry: { backoff: { initial: '5s', max: '1s' } } }, /backoff.initial must not be longer than backoff.max/],
    ['duplicate aliases', { aliases: ['x', 'x'], targets: [openai('a')] }, /aliases must be unique/],
    ['an unknown provider', { targets: [openai('a', { provider: 'mistral' })] }, /supported values: "openai", "azure-openai", "anthropic", "openai-compatible", "gemini", "bedrock", "vertex"/],
    ['a vertex target without project', { targets: [{ name: 'v', provider: 'vertex', model: 'gemini-2.5-flash', location: 'us-east5' }] }, /project is required for vertex targets and only for them/],
    ['a vertex target without location', { targets: [{ name: 'v', provider: 'vertex', model: 'gemini-2.5-flash', project: 'my-project-1' }] }, /location is required for vertex targets and only for them/],
    ['project on a gemini target', { targets: [openai('g', { provider: 'gemini', project: 'my-project-1' })] }, /project is required for vertex targets and only for them/],
    ['location on an anthropic target', { targets: [openai('a', { provider: 'anthropic', location: 'us-east5' })] }, /location is required for vertex targets and only for them/],
    ['a bad vertex location', { targets: [{ name: 'v', provider: 'vertex', model: 'm', project: 'my-project-1', location: 'US East' }] }, /spec.targets\[0\].location in body should match/],
    ['servesResponses on an openai target', { targets: [openai('a', { servesResponses: true })] }, /servesResponses is only for openai-compatible targets/],
    ['a responseStore over 256Mi', { targets: [openai('a')], responseStore: { maxBytes: '1Gi' } }, /responseStore.maxBytes must be at most 256Mi/],
    ['maxRequestBody over 256Mi', { targets: [openai('a')], maxRequestBody: '257Mi' }, /maxRequestBody must be at most 256Mi/],
    ['maxRequestBody 1Gi', { targets: [openai('a')], maxRequestBody: '1Gi' }, /maxRequestBody must be at most 256Mi/],
    ['a maxRequestBody that is not a size', { targets: [openai('a')], maxRequestBody: '32MB' }, /spec.maxRequestBody in body should match/],
    ['a parameter name with a space in params.drop', { targets: [openai('a', { params: { drop: ['top p'] } })] }, /spec.targets\[0\].params.drop\[0\] in body should match/],
    ['maxTokens 0', { targets: [openai('a', { maxTokens: 0 })] }, /spec.targets\[0\].maxTokens in body should be greater than or equal to 1/],
    // issue 13's routing features: each rule of theirs, as the API server words it
    ['a hedge without after', { targets: [openai('a'), openai('b')], hedge: { maxExtra: 1 } }, /spec.hedge.after: Required value/],
    ['a hedge after 0s', { targets: [openai('a'), openai('b')], hedge: { after: '0s' } }, /hedge.after must be longer than 0s/],
    ['more than 3 hedges', { targets: [openai('a'), openai('b')], hedge: { after: '1s', maxExtra: 4 } }, /spec.hedge.maxExtra in body should be less than or equal to 3/],
    ['a retry budget window of 6m', { targets: [openai('a')], retryBudget: { window: '6m' } }, /retryBudget.window must be from 1s to 5m/],
    ['a commit window with no end', { targets: [openai('a')], commit: { minTokensPerSecond: 10 } }, /commit needs afterTokens or afterMs: the window ends at whichever comes first/],
    ['a commit window of 0s', { targets: [openai('a')], commit: { afterMs: '0s' } }, /commit.afterMs must be longer than 0/],
    ['a commit window past the total deadline', { targets: [openai('a')], commit: { afterMs: '30s' }, timeouts: { total: '20s' } }, /commit.afterMs must be shorter than timeouts.total/],
    ['an unknown balancing', { targets: [openai('a')], balancing: 'random' }, /supported values: "weighted", "least-latency"/],
    ['an outlier ratio of 1', { targets: [openai('a')], balancing: 'least-latency', latency: { outlierRatio: 1 } }, /latency.outlierRatio must be 0 \(no ejection\) or at least 2/],
    ['affinity.header with key user', { targets: [openai('a')], affinity: { key: 'user', header: 'x-s' } }, /affinity.header is only for key: header/],
    ['affinity without a key', { targets: [openai('a')], affinity: { prefixChars: 2048 } }, /spec.affinity.key: Required value/],
  ])('refuses %s, with the rule in the message, and so does the TypeScript validator', async (_what, spec, message) => {
    const err = await rejection(spec);
    expect(err.status).toBe(422);
    expect(err.reason).toBe('Invalid');
    expect(err.message).toMatch(message);
    // the same schema drives the sidecar and the operator: they refuse what the API server refuses
    const local = validate(llmRouteSpecSchema, spec);
    expect(local.ok).toBe(false);
  });

  it('accepts, and fills the same defaults as, the TypeScript validator', async () => {
    const spec = { aliases: ['x'], targets: [openai('a'), { name: 'local', provider: 'openai-compatible', model: 'llama', baseURL: 'http://127.0.0.1:1/v1', weight: 0 }] };
    const created = await create('agree', spec);
    const local = validate(llmRouteSpecSchema, spec);
    expect(local.ok).toBe(true);
    expect(local.ok && local.value).toEqual(created.spec);
  });

  it("takes every routing feature of issue 13 as the README's examples set them, and fills the same defaults as the TypeScript validator", async () => {
    const spec = {
      targets: [openai('a'), openai('b')],
      hedge: { after: '2s' },
      retryBudget: { percent: 10 },
      commit: { afterTokens: 50, afterMs: '1s', minTokensPerSecond: 30 },
      balancing: 'least-latency',
      latency: { outlierRatio: 0 },
      rateLimitAware: { minRemainingPercent: 10 },
      affinity: { key: 'header', header: 'x-llmroute-session' },
    };
    const created = await create('routing', spec);
    const local = validate(llmRouteSpecSchema, spec);
    expect(local.ok).toBe(true);
    expect(local.ok && local.value).toEqual(created.spec);
    expect(created.spec.hedge).toEqual({ after: '2s', maxExtra: 1, budgetPercent: 10, skipWithTools: false });
    expect(created.spec.affinity).toEqual({ key: 'header', header: 'x-llmroute-session', prefixChars: 1024 });
  });

  it('fills in the defaults', async () => {
    const created = await create('defaults', { targets: [openai('a'), { name: 'local', provider: 'openai-compatible', model: 'llama', baseURL: 'http://127.0.0.1:1/v1' }] });
    expect(created.spec).toEqual({
      targets: [
        { ...openai('a'), priority: 0, weight: 1 },
        { name: 'local', provider: 'openai-compatible', model: 'llama', baseURL: 'http://127.0.0.1:1/v1', priority: 0, weight: 1 },
      ],
      retry: { attempts: 1, backoff: { initial: '200ms', max: '2s' }, retryAfterCap: '10s' },
      fallbackOn: ['rate-limit', 'server-error', 'timeout', 'connection-error'],
      maxRequestBody: '32Mi',
      timeouts: { connect: '2s', firstByte: '15s', firstContent: '10m', idle: '30s', total: '10m' },
      circuitBreaker: { consecutiveFailures: 5, openFor: '30s' },
      responseStore: { maxEntries: 1000, maxBytes: '16Mi', ttl: '1h' },
      // issue 13: the retry budget and rate-limit awareness are on, balancing weighted (least-latency's settings filled, unread)
      retryBudget: { percent: 20, minPerSecond: 3, window: '10s' },
      balancing: 'weighted',
      latency: { halfLife: '10s', outlierRatio: 3, ejectFor: '30s', minRequests: 20, maxEjectedPercent: 50 },
      rateLimitAware: { enabled: true, minRemainingPercent: 5 },
    });
    expect(created.metadata.generation).toBe(1);
  });

  it('keeps params.set values of any JSON type as they are, and takes maxRequestBody up to 256Mi', async () => {
    const set = { temperature: 1, reasoning_effort: 'low', thinking: { type: 'enabled', budget_tokens: 1024 }, stop: ['x'], flag: true };
    const created = await create('params', { targets: [openai('a', { params: { drop: ['top_p'], set }, maxTokens: 64000 })], maxRequestBody: '256Mi' });
    expect(created.spec.targets[0].params).toEqual({ drop: ['top_p'], set });
    expect(created.spec.targets[0].maxTokens).toBe(64000);
    expect(created.spec.maxRequestBody).toBe('256Mi');
  });

  it('serves the printer columns Ready, Targets, Primary and Age', async () => {
    await create('columns', { targets: [openai('a'), openai('b')] });
    await api.request('PATCH', llmRouteStatusPath(ns, 'columns'), {
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          targets: 2,
          primary: 'openai/gpt-4o-mini',
          conditions: [{ type: 'Ready', status: 'True', reason: 'Rendered', message: 'ok', lastTransitionTime: '2025-01-01T00:00:00Z' }],
        },
      },
    });
    const table = await api.request<any>('GET', `${llmRoutesPath(ns)}/columns`, {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
    });
    expect(table.kind).toBe('Table');
    const names = table.columnDefinitions.map((c: { name: string }) => c.name);
    expect(names).toEqual(['Name', 'Ready', 'Targets', 'Primary', 'Age']);
    const cells = table.rows[0].cells;
    expect(cells.slice(0, 4)).toEqual(['columns', 'True', 2, 'openai/gpt-4o-mini']);
    expect(cells[4]).toMatch(/^\d+s$/);
  });
});
