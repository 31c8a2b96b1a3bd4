import yaml from 'js-yaml';
import { configFileSchema } from '../../../api/v1alpha1/schema.ts';
import type { ConfigFile, ConfigRoute, LLMRoute } from '../../../api/v1alpha1/types.ts';
import { validate } from '../../../api/v1alpha1/validate.ts';
import { llmRoute, openaiTarget, secretsOf } from '../testing/fixtures.ts';
import { keyDestinations } from './key-destinations.ts';
import { renderNamespace } from './render-namespace.ts';
import { routeEvents } from './route-events.ts';
import type { NamespaceRender } from './types.ts';

/**
 * Checks a render the way the sidecar reads it, through the contract in api/: config.yaml validates
 * against the config-file schema, no model name is taken twice, and every key file it names is in
 * the credentials Secret. (test/integration/rendered-config.test.ts loads renders with the sidecar's
 * own parser; this workspace's tests import only api/ and common/.)
 */
function checkedConfig(r: NamespaceRender): { routes: ConfigRoute[]; models: Set<string> } {
  const checked = validate<ConfigFile>(configFileSchema, yaml.load(r.configYaml, { schema: yaml.CORE_SCHEMA }));
  if (!checked.ok) throw new Error(`the sidecar would refuse this config.yaml: ${checked.problems.join('; ')}`);
  const models = new Set<string>();
  for (const route of checked.value.routes) {
    // A route may name itself as an alias; another route's name or alias may not.
    for (const name of new Set([route.name, ...(route.aliases ?? [])])) {
      if (models.has(name)) throw new Error(`model name '${name}' is used twice`);
      models.add(name);
    }
    for (const t of route.targets) {
      if (t.apiKey?.file !== undefined && !(t.apiKey.file in r.credentials)) throw new Error(`key file ${t.apiKey.file} is not in the credentials`);
    }
  }
  return { routes: checked.value.routes, models };
}

/** A Secret the operator cannot see: missing or unlabelled, it cannot tell which. */
const notFound = (target: string, secret: string) =>
  `target "${target}": Secret "${secret}" not found among the Secrets labelled llmroute.dev/credentials=true ` +
  '(the operator reads no other Secret, so it cannot tell a missing Secret from an unlabelled one); ' +
  `if it exists: kubectl -n shop label secret ${secret} llmroute.dev/credentials=true`;

const NOW = new Date('2025-06-01T12:00:00.000Z');
const LATER = new Date('2025-06-01T13:00:00.000Z');
const OPENAI_KEY = 'sk-test-OPENAI-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-test-ANTHROPIC-fedcba9876543210';

const chatSpec = {
  aliases: ['gpt-4o'],
  targets: [
    openaiTarget('openai', 'openai-key', 'apiKey', { priority: 0, weight: 80 }),
    { name: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5', priority: 1, apiKeySecretRef: { name: 'anthropic-key', key: 'apiKey' } },
  ],
};
const secrets = secretsOf({ 'openai-key': { apiKey: OPENAI_KEY, unused: 'not-referenced-XYZ' }, 'anthropic-key': { apiKey: ANTHROPIC_KEY } });

describe('renderNamespace', () => {
  it('renders a route in the sidecar format (test/integration/rendered-config.test.ts loads it in the sidecar)', () => {
    const r = renderNamespace([llmRoute('chat', chatSpec)], secrets, { now: NOW });
    const file = yaml.load(r.configYaml, { schema: yaml.CORE_SCHEMA }) as ConfigFile;
    expect(file).toEqual({
      version: 1,
      routes: [
        {
          name: 'chat',
          aliases: ['gpt-4o'],
          targets: [
            { name: 'openai', provider: 'openai', model: 'gpt-4o-mini', priority: 0, weight: 80, apiKey: { file: 'shop.chat_openai' } },
            { name: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5', priority: 1, weight: 1, apiKey: { file: 'shop.chat_claude' } },
          ],
          retry: { attempts: 1, backoff: { initial: '200ms', max: '2s' }, retryAfterCap: '10s' },
          fallbackOn: ['rate-limit', 'server-error', 'timeout', 'connection-error'],
          maxRequestBody: '32Mi',
          timeouts: { connect: '2s', firstByte: '15s', firstContent: '10m', idle: '30s', total: '10m' },
          circuitBreaker: { consecutiveFailures: 5, openFor: '30s' },
          responseStore: { maxEntries: 1000, maxBytes: '16Mi', ttl: '1h' },
        },
      ],
    });
    expect(file.listen).toBeUndefined();
    expect(file.admin).toBeUndefined();
    expect(r.rendered).toEqual(['chat']);
  });

  it('copies every field, non-default values included', () => {
    const spec = {
      targets: [
        { name: 'az', provider: 'azure-openai', model: 'dep', baseURL: 'https://x.openai.azure.com', apiVersion: '2024-10-21', priority: 3, weight: 0, apiKeySecretRef: { name: 'k', key: 'a' } },
        {
          name: 'local',
          provider: 'openai-compatible',
          model: 'llama3.1',
          baseURL: 'http://127.0.0.1:11434/v1',
          params: { drop: ['temperature', 'top_p'], set: { seed: 7, reasoning_effort: 'low', thinking: { type: 'disabled' } } },
          maxTokens: 1000,
          servesResponses: true,
        },
      ],
      retry: { attempts: 3, backoff: { initial: '50ms', max: '1s' }, retryAfterCap: '3s' },
      fallbackOn: ['auth', 'context-window'],
      maxRequestBody: '64Mi',
      timeouts: { connect: '1s', firstByte: '5s', firstContent: '3m', idle: '6s', total: '1m' },
      circuitBreaker: { consecutiveFailures: 2, openFor: '10s' },
      responseStore: { maxEntries: 0, maxBytes: '1Mi', ttl: '5m' },
      commit: { afterTokens: 40, afterMs: '2s', minTokensPerSecond: 5 },
      hedge: { after: '1500ms', maxExtra: 2, budgetPercent: 5, skipWithTools: true },
      retryBudget: { percent: 50, minPerSecond: 0, window: '30s' },
    };
    const r = renderNamespace([llmRoute('r1', spec, { namespace: 'ns1' })], secretsOf({ k: { a: 'key-a' } }), { now: NOW });
    const route = (yaml.load(r.configYaml, { schema: yaml.CORE_SCHEMA }) as ConfigFile).routes[0]!;
    expect(route).toEqual({
      name: 'r1',
      aliases: [],
      targets: [
        { name: 'az', provider: 'azure-openai', model: 'dep', baseURL: 'https://x.openai.azure.com', apiVersion: '2024-10-21', priority: 3, weight: 0, apiKey: { file: 'ns1.r1_az' } },
        {
          name: 'local',
          provider: 'openai-compatible',
          model: 'llama3.1',
          baseURL: 'http://127.0.0.1:11434/v1',
          priority: 0,
          weight: 1,
          params: { drop: ['temperature', 'top_p'], set: { seed: 7, reasoning_effort: 'low', thinking: { type: 'disabled' } } },
          maxTokens: 1000,
          servesResponses: true,
        },
      ],
      retry: spec.retry,
      fallbackOn: ['auth', 'context-window'],
      maxRequestBody: '64Mi',
      timeouts: spec.timeouts,
      circuitBreaker: spec.circuitBreaker,
      responseStore: spec.responseStore,
      commit: spec.commit,
      hedge: spec.hedge,
      retryBudget: spec.retryBudget,
    });
    // The date-like apiVersion stays a string for any YAML reader.
    expect(r.configYaml).toContain(`apiVersion: '2024-10-21'`);
    expect(r.credentials).toEqual({ 'ns1.r1_az': Buffer.from('key-a').toString('base64') });
    checkedConfig(r);
  });

  it('renders the picking fields (issue 13) only when a route sets them off their defaults', () => {
    const picking = {
      targets: [openaiTarget('a'), openaiTarget('b')],
      balancing: 'least-latency',
      latency: { halfLife: '5s', outlierRatio: 4, ejectFor: '1m', minRequests: 10, maxEjectedPercent: 30 },
      rateLimitAware: { enabled: false },
      affinity: { key: 'header', header: 'x-conversation' },
    };
    const defaults = { targets: [openaiTarget('a')], rateLimitAware: { enabled: true, minRemainingPercent: 5 }, balancing: 'weighted' };
    const r = renderNamespace([llmRoute('p', picking), llmRoute('d', defaults)], secretsOf({ 'openai-key': { apiKey: 'k' } }), { now: NOW });
    const { routes } = checkedConfig(r);
    const [d, p] = (yaml.load(r.configYaml, { schema: yaml.CORE_SCHEMA }) as ConfigFile).routes as [ConfigRoute, ConfigRoute];
    expect(p.balancing).toBe('least-latency');
    expect(p.latency).toEqual(picking.latency);
    expect(p.rateLimitAware).toEqual({ enabled: false, minRemainingPercent: 5 });
    expect(p.affinity).toEqual({ key: 'header', header: 'x-conversation', prefixChars: 1024 });
    for (const field of ['balancing', 'latency', 'rateLimitAware', 'affinity'] as const) expect(d[field]).toBeUndefined();
    expect(routes).toHaveLength(2);
  });

  it('renders the retry budget only off its defaults (a route that leaves it renders as before it existed)', () => {
    const set = { targets: [openaiTarget('a')], retryBudget: { percent: 50 } };
    const left = { targets: [openaiTarget('a')], retryBudget: { percent: 20, minPerSecond: 3, window: '10s' } };
    const r = renderNamespace([llmRoute('s', set), llmRoute('l', left)], secretsOf({ 'openai-key': { apiKey: 'k' } }), { now: NOW });
    const [l, s] = (yaml.load(r.configYaml, { schema: yaml.CORE_SCHEMA }) as ConfigFile).routes as [ConfigRoute, ConfigRoute];
    expect(s.retryBudget).toEqual({ percent: 50, minPerSecond: 3, window: '10s' });
    expect(l.retryBudget).toBeUndefined();
    expect(checkedConfig(r).routes).toHaveLength(2);
  });

  it('is deterministic: sorted by name, the same bytes whatever the input order, no timestamps', () => {
    const routes = ['zeta', 'alpha', 'mid'].map((n, i) => llmRoute(n, { targets: [openaiTarget('t')] }, { created: `2025-01-0${i + 1}T00:00:00Z` }));
    const s = secretsOf({ 'openai-key': { apiKey: 'k' } });
    const a = renderNamespace(routes, s, { now: NOW });
    const b = renderNamespace([...routes].reverse(), s, { now: LATER });
    expect(a.configYaml).toBe(b.configYaml);
    expect(JSON.stringify(a.credentials)).toBe(JSON.stringify(b.credentials));
    const names = (yaml.load(a.configYaml) as ConfigFile).routes.map((r) => r.name);
    expect(names).toEqual(['alpha', 'mid', 'zeta']);
    expect(a.configYaml).not.toMatch(/20\d\d-\d\d-\d\dT/);
  });

  it('copies only the keys the rendered routes reference', () => {
    const r = renderNamespace([llmRoute('chat', chatSpec)], secrets, { now: NOW });
    expect(Object.keys(r.credentials)).toEqual(['shop.chat_claude', 'shop.chat_openai']);
    expect(Object.values(r.credentials).map((v) => Buffer.from(v, 'base64').toString())).not.toContain('not-referenced-XYZ');
  });

  it('gives an openai-compatible target without a key no apiKey', () => {
    const r = renderNamespace([llmRoute('local', { targets: [{ name: 'ollama', provider: 'openai-compatible', model: 'm', baseURL: 'http://127.0.0.1:1/v1' }] })], new Map(), {
      now: NOW,
    });
    expect(r.configYaml).not.toContain('apiKey');
    expect(r.credentials).toEqual({});
    expect(r.statuses.get('local')!.conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'True', reason: 'Resolved', message: 'no Secret references' });
    checkedConfig(r);
  });

  it('renders cloud targets: vertex project and location, bedrock region and endpoint; without a Secret, no apiKey (workload identity)', () => {
    const spec = {
      targets: [
        { name: 'vertex', provider: 'vertex', model: 'claude-sonnet-4-5@20250929', project: 'my-project-1', location: 'us-east5' },
        { name: 'vertex-sa', provider: 'vertex', model: 'gemini-2.5-flash', project: 'my-project-1', location: 'global', priority: 1, apiKeySecretRef: { name: 'sa', key: 'key.json' } },
        { name: 'bedrock', provider: 'bedrock', model: 'anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-west-2', endpoint: 'https://vpce-1.bedrock-runtime.us-west-2.vpce.amazonaws.com', priority: 2 },
      ],
    };
    const r = renderNamespace([llmRoute('claude', spec)], secretsOf({ sa: { 'key.json': '{"type":"service_account"}' } }), { now: NOW });
    const { routes } = checkedConfig(r);
    expect(routes[0]!.targets).toEqual([
      { name: 'vertex', provider: 'vertex', model: 'claude-sonnet-4-5@20250929', project: 'my-project-1', location: 'us-east5', priority: 0, weight: 1 },
      { name: 'vertex-sa', provider: 'vertex', model: 'gemini-2.5-flash', project: 'my-project-1', location: 'global', priority: 1, weight: 1, apiKey: { file: 'shop.claude_vertex-sa' } },
      { name: 'bedrock', provider: 'bedrock', model: 'anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-west-2', endpoint: 'https://vpce-1.bedrock-runtime.us-west-2.vpce.amazonaws.com', priority: 2, weight: 1 },
    ]);
    expect(Object.keys(r.credentials)).toEqual(['shop.claude_vertex-sa']);
  });

  describe('Secret references', () => {
    const ok = llmRoute('ok', { targets: [openaiTarget('t', 'present')] });
    const present = secretsOf({ present: { apiKey: 'sk-present' } });

    it('leaves out a route whose Secret is missing, and keeps the others', () => {
      const r = renderNamespace([ok, llmRoute('waiting', { targets: [openaiTarget('a', 'present'), openaiTarget('b', 'absent')] })], present, { now: NOW });
      expect(r.rendered).toEqual(['ok']);
      const st = r.statuses.get('waiting')!;
      expect(st.conditions).toEqual([
        expect.objectContaining({ type: 'Accepted', status: 'True', reason: 'Accepted' }),
        expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'SecretNotFound', message: notFound('b', 'absent') }),
        expect.objectContaining({ type: 'Ready', status: 'False', reason: 'NotRendered' }),
      ]);
      // Its resolvable key is not copied either.
      expect(Object.keys(r.credentials)).toEqual(['shop.ok_t']);
      expect(r.statuses.get('ok')!.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(['Accepted=True/Accepted', 'ResolvedRefs=True/Resolved', 'Ready=True/Rendered']);
      checkedConfig(r);
    });

    it('reports a missing key as KeyNotFound, and an empty one too', () => {
      const r = renderNamespace(
        [llmRoute('nokey', { targets: [openaiTarget('t', 'present', 'other')] }), llmRoute('blank', { targets: [openaiTarget('t', 'blank')] })],
        secretsOf({ present: { apiKey: 'x' }, blank: { apiKey: '  \n' } }),
        { now: NOW },
      );
      expect(r.rendered).toEqual([]);
      expect(r.statuses.get('nokey')!.conditions[1]).toMatchObject({ reason: 'KeyNotFound', message: 'target "t": key "other" not found in Secret "present"' });
      expect(r.statuses.get('blank')!.conditions[1]).toMatchObject({ reason: 'KeyNotFound', message: 'target "t": key "apiKey" in Secret "blank" is empty' });
      // An empty route list is still a config the sidecar accepts.
      expect(checkedConfig(r).routes).toEqual([]);
    });

    it('says SecretNotFound when a Secret is missing even if another key is missing too', () => {
      const r = renderNamespace([llmRoute('x', { targets: [openaiTarget('a', 'present', 'nope'), openaiTarget('b', 'absent')] })], present, { now: NOW });
      expect(r.statuses.get('x')!.conditions[1]).toMatchObject({
        reason: 'SecretNotFound',
        message: `target "a": key "nope" not found in Secret "present"; ${notFound('b', 'absent')}`,
      });
    });
  });

  describe('key destinations', () => {
    const evil = llmRoute('evil', {
      aliases: ['gpt-4o'],
      targets: [openaiTarget('ok', 'openai-key'), openaiTarget('exfil', 'openai-key', 'apiKey', { provider: 'openai-compatible', baseURL: 'https://collector.evil.example/v1' })],
    });

    it('refuses a route that would send a key to a host no admin allowed: Accepted=False/HostNotAllowed, nothing of it rendered', () => {
      const r = renderNamespace([evil, llmRoute('chat', chatSpec, { created: '2025-02-01T00:00:00Z' })], secrets, { now: NOW });
      expect(r.rendered).toEqual(['chat']);
      expect(Object.keys(r.credentials)).toEqual(['shop.chat_claude', 'shop.chat_openai']);
      expect(r.configYaml).not.toContain('evil.example');
      expect(r.statuses.get('evil')!.conditions).toEqual([
        expect.objectContaining({
          type: 'Accepted',
          status: 'False',
          reason: 'HostNotAllowed',
          message: expect.stringMatching(/^target "exfil": host "collector\.evil\.example" is not allowed for openai-compatible targets .*--allowed-base-url-hosts=openai-compatible=collector\.evil\.example\)$/),
        }),
        expect.objectContaining({ type: 'ResolvedRefs', status: 'True', reason: 'Resolved' }),
        expect.objectContaining({ type: 'Ready', status: 'False', reason: 'NotRendered', message: expect.stringContaining('left out of the sidecar config: target "exfil": host') }),
      ]);
      // It claims no model name: the younger route keeps gpt-4o.
      expect(r.statuses.get('chat')!.conditions[0]).toMatchObject({ status: 'True', reason: 'Accepted' });
      checkedConfig(r);
    });

    it('renders it once an admin allows the host; a key-less target needs no allowing', () => {
      const r = renderNamespace([evil, llmRoute('local', { targets: [{ name: 'o', provider: 'openai-compatible', model: 'm', baseURL: 'http://10.1.2.3:11434/v1' }] })], secrets, {
        now: NOW,
        keyDestinations: keyDestinations({ openai: ['api.openai.com'], 'openai-compatible': ['*.evil.example'] }),
      });
      expect(r.rendered).toEqual(['evil', 'local']);
      checkedConfig(r);
    });
  });

  it('never takes a key from the rendered Secret: a route naming llmroute-credentials is Invalid, even if the cache held it', () => {
    const laundered = llmRoute('launder', { targets: [openaiTarget('t', 'llmroute-credentials', 'shop.chat_openai')] });
    const withRendered = new Map([...secrets, ...secretsOf({ 'llmroute-credentials': { 'shop.chat_openai': OPENAI_KEY } })]);
    const r = renderNamespace([laundered], withRendered, { now: NOW });
    expect(r.rendered).toEqual([]);
    expect(r.credentials).toEqual({});
    expect(r.statuses.get('launder')!.conditions[0]).toMatchObject({ reason: 'Invalid', message: expect.stringContaining('apiKeySecretRef may not name llmroute-credentials') });
  });

  it('refuses an invalid spec (defensively) and leaves it out', () => {
    const r = renderNamespace(
      [llmRoute('bad', { targets: [{ name: 'a', provider: 'openai-compatible', model: 'm' }] }), llmRoute('good', { targets: [openaiTarget('t')] })],
      secrets,
      { now: NOW },
    );
    expect(r.rendered).toEqual(['good']);
    const st = r.statuses.get('bad')!;
    expect(st.conditions[0]).toMatchObject({ type: 'Accepted', status: 'False', reason: 'Invalid' });
    expect(st.conditions[0]!.message).toContain('baseURL is required for openai-compatible and azure-openai targets');
    expect(st.conditions[1]).toMatchObject({ type: 'ResolvedRefs', status: 'Unknown' });
    expect(st.conditions[2]).toMatchObject({ type: 'Ready', status: 'False', reason: 'NotRendered' });
    expect(st.targets).toBe(1);
    expect(st.primary).toBe('openai-compatible/m');
  });

  it('survives a spec that is not even the right shape', () => {
    const r = renderNamespace([llmRoute('junk', { targets: 'nope' } as never)], new Map(), { now: NOW });
    expect(r.statuses.get('junk')).toMatchObject({ targets: 0, conditions: [expect.objectContaining({ reason: 'Invalid' }), expect.anything(), expect.anything()] });
    expect(r.statuses.get('junk')!.primary).toBeUndefined();
  });

  describe('model name conflicts', () => {
    const s = secretsOf({ 'openai-key': { apiKey: 'k' } });
    it('refuses the newer route when an alias is taken', () => {
      const older = llmRoute('b-older', { aliases: ['gpt-4o'], targets: [openaiTarget('t')] }, { created: '2025-01-01T00:00:00Z' });
      const newer = llmRoute('a-newer', { aliases: ['gpt-4o', 'other'], targets: [openaiTarget('t')] }, { created: '2025-02-01T00:00:00Z' });
      const r = renderNamespace([newer, older], s, { now: NOW });
      expect(r.rendered).toEqual(['b-older']);
      expect(r.statuses.get('a-newer')!.conditions[0]).toMatchObject({
        type: 'Accepted',
        status: 'False',
        reason: 'AliasConflict',
        message: 'model name "gpt-4o" is already used by LLMRoute "b-older", which is older',
      });
      // The refused route claims nothing: its other alias stays free.
      expect(checkedConfig(r).models.has('other')).toBe(false);
    });

    it('breaks a creation-time tie by name', () => {
      const r = renderNamespace(
        [llmRoute('b', { aliases: ['x'], targets: [openaiTarget('t')] }), llmRoute('a', { aliases: ['x'], targets: [openaiTarget('t')] })],
        s,
        { now: NOW },
      );
      expect(r.rendered).toEqual(['a']);
      expect(r.statuses.get('b')!.conditions[0]!.reason).toBe('AliasConflict');
    });

    it("refuses an alias equal to another route's name (and the other way round)", () => {
      const r = renderNamespace(
        [
          llmRoute('chat', { targets: [openaiTarget('t')] }, { created: '2025-01-01T00:00:00Z' }),
          llmRoute('copy', { aliases: ['chat'], targets: [openaiTarget('t')] }, { created: '2025-01-02T00:00:00Z' }),
          llmRoute('early', { aliases: ['late'], targets: [openaiTarget('t')] }, { created: '2025-01-03T00:00:00Z' }),
          llmRoute('late', { targets: [openaiTarget('t')] }, { created: '2025-01-04T00:00:00Z' }),
        ],
        s,
        { now: NOW },
      );
      expect(r.rendered).toEqual(['chat', 'early']);
      checkedConfig(r);
    });

    it('lets a route use its own name as an alias', () => {
      const r = renderNamespace([llmRoute('chat', { aliases: ['chat'], targets: [openaiTarget('t')] })], s, { now: NOW });
      expect(r.rendered).toEqual(['chat']);
      checkedConfig(r);
    });
  });

  describe('status', () => {
    it('has observedGeneration, targets and primary (the first target in spec order)', () => {
      const spec = { targets: [openaiTarget('late', 'openai-key', 'apiKey', { priority: 5 }), { ...openaiTarget('early'), model: 'gpt-4.1', priority: 0 }] };
      const st = renderNamespace([llmRoute('r', spec, { generation: 7 })], secrets, { now: NOW }).statuses.get('r')!;
      expect(st).toMatchObject({ observedGeneration: 7, targets: 2, primary: 'openai/gpt-4o-mini' });
      expect(st.conditions.every((c) => c.observedGeneration === 7 && c.lastTransitionTime === '2025-06-01T12:00:00Z')).toBe(true);
    });

    it('keeps lastTransitionTime while a status holds, and moves it when it flips', () => {
      const first = renderNamespace([llmRoute('r', { targets: [openaiTarget('t', 'later')] })], new Map(), { now: NOW }).statuses.get('r')!;
      const again = renderNamespace([llmRoute('r', { targets: [openaiTarget('t', 'later')] }, { status: first, generation: 2 })], new Map(), { now: LATER }).statuses.get('r')!;
      expect(again.conditions.map((c) => c.lastTransitionTime)).toEqual(first.conditions.map((c) => c.lastTransitionTime));
      expect(again.conditions[0]!.observedGeneration).toBe(2);
      const fixed = renderNamespace([llmRoute('r', { targets: [openaiTarget('t', 'later')] }, { status: again, generation: 2 })], secretsOf({ later: { apiKey: 'k' } }), {
        now: LATER,
      }).statuses.get('r')!;
      expect(fixed.conditions.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
        ['Accepted', 'True', '2025-06-01T12:00:00Z'],
        ['ResolvedRefs', 'True', '2025-06-01T13:00:00Z'],
        ['Ready', 'True', '2025-06-01T13:00:00Z'],
      ]);
    });
  });

  it('refuses routes of two namespaces at once', () => {
    expect(() => renderNamespace([llmRoute('a', chatSpec, { namespace: 'x' }), llmRoute('b', chatSpec, { namespace: 'y' })], secrets, { now: NOW })).toThrow(
      expect.objectContaining({ code: 'render_input' }),
    );
  });

  it('never puts key material into config.yaml, statuses or events', () => {
    const routes: LLMRoute[] = [
      llmRoute('chat', chatSpec),
      llmRoute('nokey', { targets: [openaiTarget('t', 'openai-key', 'missing')] }),
      llmRoute('conflict', { aliases: ['gpt-4o'], targets: [openaiTarget('t')] }, { created: '2026-01-01T00:00:00Z' }),
    ];
    const r = renderNamespace(routes, secrets, { now: NOW });
    const visible = [r.configYaml, JSON.stringify([...r.statuses]), JSON.stringify([...r.statuses.values()].map((s) => routeEvents(undefined, s)))].join('\n');
    for (const key of [OPENAI_KEY, ANTHROPIC_KEY, 'not-referenced-XYZ']) {
      expect(visible).not.toContain(key);
      expect(visible).not.toContain(Buffer.from(key).toString('base64'));
    }
  });
});
