/**
 * Issue 10: a target that answers 404 is misconfigured (a wrong baseURL, a
 * renamed Azure deployment, a retired model): class not-found, which falls
 * back and opens the target's circuit, as auth does. Driven by the official
 * openai Node SDK against the real sidecar, with fakes that answer an
 * unknown model, deployment or path the way the real services do.
 */
import OpenAI, { APIError } from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { askChat } from '../support/chat-client.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let openai: FakeProvider;
let claude: FakeProvider;
let sidecar: SidecarProcess;
let client: OpenAI;

const policy = `
  retry: {attempts: 2, backoff: {initial: 5ms, max: 20ms}}
  circuitBreaker: {consecutiveFailures: 3, openFor: 1m}`;
const backup = () => `  - {name: claude, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5, priority: 1, apiKey: {value: sk-claude}}`;

beforeAll(async () => {
  openai = await startFakeProvider({ flavor: 'openai', name: 'openai', text: 'from openai', knownModels: ['gpt-4o-mini', 'chat-deployment'] });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', text: 'from claude', knownModels: ['claude-sonnet-4-5'] });
  sidecar = await startSidecarProcess(`
routes:
- name: retired
  fallbackOn: [server-error]
  targets:
  - {name: primary, provider: openai, baseURL: "${openai.url}", model: gpt-4.5-preview, apiKey: {value: sk-openai}}
${backup()}
${policy}
- name: wrong-url
  targets:
  - {name: primary, provider: openai, baseURL: "${openai.origin}/v2", model: gpt-4o-mini, apiKey: {value: sk-openai}}
${backup()}
${policy}
- name: renamed
  targets:
  - {name: azure, provider: azure-openai, baseURL: "${openai.origin}", model: old-deployment, apiKey: {value: sk-azure}}
${backup()}
${policy}
- name: retired-claude
  targets:
  - {name: claude-old, provider: anthropic, baseURL: "${claude.url}", model: claude-3-opus-20240229, apiKey: {value: sk-claude}}
  - {name: openai, provider: openai, baseURL: "${openai.url}", model: gpt-4o-mini, priority: 1, apiKey: {value: sk-openai}}
${policy}
- name: file
  targets:
  - {name: primary, provider: openai, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: sk-openai}}
${backup()}
${policy}
`);
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([openai?.close(), claude?.close()]);
});

beforeEach(() => {
  openai.reset();
  claude.reset();
});

const ask = (model: string) => askChat(client, model);

describe('a 404 from a target falls back, not retried, and opens its circuit', () => {
  it('a retired OpenAI model (404 model_not_found) → the backup answers, even though fallbackOn lacks not-found', async () => {
    const { data, response } = await ask('retired');
    expect(data.choices[0]!.message.content).toBe('from claude');
    expect(response.headers.get('x-llmroute-target')).toBe('claude');
    // One try on the primary, no retry (retry.attempts is 2), then the backup.
    expect(response.headers.get('x-llmroute-attempts')).toBe('2');
    expect(openai.requests.map((r) => r.outcome)).toEqual(['model-not-found']);
    expect(await sidecar.metric('llmroute_upstream_attempts_total', { route: 'retired', target: 'primary', outcome: 'not-found' })).toBe(1);
    expect(await sidecar.metric('llmroute_fallbacks_total', { route: 'retired', from: 'primary', to: 'claude', reason: 'not-found' })).toBe(1);

    // The circuit opened: the next request goes straight to the backup.
    const second = await ask('retired');
    expect(second.data.choices[0]!.message.content).toBe('from claude');
    expect(second.response.headers.get('x-llmroute-attempts')).toBe('1');
    expect(openai.requests).toHaveLength(1);
    expect(await sidecar.metric('llmroute_circuit_state', { route: 'retired', target: 'primary' })).toBe(2); // 2: open
  });

  it('a wrong baseURL (404 "Invalid URL") → the backup answers', async () => {
    const { data, response } = await ask('wrong-url');
    expect(data.choices[0]!.message.content).toBe('from claude');
    expect(response.headers.get('x-llmroute-fallbacks')).toBe('1');
    expect(openai.requests.map((r) => [r.pathname, r.outcome])).toEqual([['/v2/chat/completions', 'not-found']]);
  });

  it('a renamed Azure deployment (404 DeploymentNotFound) → the backup answers', async () => {
    const { data } = await ask('renamed');
    expect(data.choices[0]!.message.content).toBe('from claude');
    expect(openai.requests.map((r) => [r.deployment, r.outcome])).toEqual([['old-deployment', 'model-not-found']]);
    expect(await sidecar.metric('llmroute_upstream_attempts_total', { route: 'renamed', target: 'azure', outcome: 'not-found' })).toBe(1);
  });

  it("a retired Claude model (Anthropic's 404 not_found_error) → the backup answers", async () => {
    const { data } = await ask('retired-claude');
    expect(data.choices[0]!.message.content).toBe('from openai');
    expect(claude.requests.map((r) => r.outcome)).toEqual(['model-not-found']);
  });
});

it("a 404 about a file the request names is the client's error: it goes back as it is, no fallback, the circuit stays closed", async () => {
  openai.setBehaviour({ kind: 'status', status: 404, message: 'No such File object: file-abc123', type: 'invalid_request_error', code: null });
  try {
    for (let i = 0; i < 4; i++) {
      const err = await ask('file').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect(err).toMatchObject({ status: 404, message: expect.stringContaining('No such File object: file-abc123') });
    }
    expect(claude.requests).toHaveLength(0);
    expect(openai.requests).toHaveLength(4);
    expect(await sidecar.metric('llmroute_upstream_attempts_total', { route: 'file', target: 'primary', outcome: 'bad-request' })).toBe(4);
  } finally {
    openai.setBehaviour(undefined);
  }
});
