/**
 * Defects real clients found in the sidecar's HTTP surface (issue 10), each
 * driven the way the client drove it: openai-python (its default retries,
 * `_request_id`, `models.retrieve`, `completions.create`, `AzureOpenAI`)
 * through test/python/client_surface.py, and the openai Node SDK for a
 * stream its client leaves, against the real sidecar and fake providers that
 * check what the real services check.
 */
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { eventually, startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { runPythonScript } from '../realserver/python-env.ts';

let fakes: Record<'down1' | 'down2' | 'limited' | 'primary' | 'backup' | 'claude' | 'azure', FakeProvider>;
let sidecar: SidecarProcess;

const openaiTarget = (name: string, fake: FakeProvider, extra = ''): string =>
  `  - {name: ${name}, provider: openai, baseURL: "${fake.url}", model: gpt-4o-mini, apiKey: {value: sk-${name}}${extra}}\n`;

beforeAll(async () => {
  const start = (name: keyof typeof fakes, flavor: 'openai' | 'anthropic' = 'openai', extra: Record<string, unknown> = {}): Promise<FakeProvider> =>
    startFakeProvider({ flavor, name, expectKey: `sk-${name}`, text: `Hello from ${name}`, chunks: 3, ...extra });
  fakes = {
    down1: await start('down1', 'openai', { behaviour: { kind: 'status', status: 503 } }),
    down2: await start('down2', 'openai', { behaviour: { kind: 'status', status: 503 } }),
    limited: await start('limited'),
    primary: await start('primary'),
    backup: await start('backup'),
    claude: await start('claude', 'anthropic'),
    azure: await start('azure'),
  };
  const f = fakes;
  sidecar = await startSidecarProcess(`
routes:
- name: down
  targets:
${openaiTarget('down1', f.down1)}${openaiTarget('down2', f.down2, ', priority: 1')}  retry: {attempts: 1, backoff: {initial: 1ms, max: 5ms}}
- name: limited
  targets:
${openaiTarget('limited', f.limited)}  retry: {attempts: 0}
- name: chat
  aliases: [gpt-4o]
  targets:
${openaiTarget('primary', f.primary)}${openaiTarget('backup', f.backup, ', priority: 1')}  retry: {attempts: 0}
- name: claude
  targets:
  - {name: claude, provider: anthropic, baseURL: "${f.claude.url}", model: claude-sonnet-4-5, apiKey: {value: sk-claude}}
- name: mixed
  targets:
  - {name: claude, provider: anthropic, baseURL: "${f.claude.url}", model: claude-sonnet-4-5, apiKey: {value: sk-claude}}
${openaiTarget('backup', f.backup, ', priority: 1')}- name: azold
  targets:
  - {name: az, provider: azure-openai, baseURL: "${f.azure.origin}", apiVersion: "2024-06-01", model: my-deployment, apiKey: {value: sk-azure}}
- name: embed
  targets:
  - {name: az, provider: azure-openai, baseURL: "${f.azure.origin}", apiVersion: "2024-06-01", model: my-embeddings, apiKey: {value: sk-azure}}
- name: slow
  targets:
${openaiTarget('primary', f.primary)}  timeouts: {idle: 60s}
- name: small
  maxRequestBody: 1Mi
  targets:
${openaiTarget('primary', f.primary)}`);
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all(Object.values(fakes ?? {}).map((f) => f.close()));
});

beforeEach(() => {
  for (const f of Object.values(fakes)) f.reset();
});

const python = (...args: string[]): Promise<any> =>
  runPythonScript('client_surface.py', args, { OPENAI_BASE_URL: sidecar.baseURL, OPENAI_API_KEY: 'app-key-that-must-not-travel' }, 90_000);

describe("the client SDK's own retries (x-should-retry)", () => {
  it("openai (Python, default max_retries=2): every target failing reaches the providers exactly as often as the sidecar's own tries", async () => {
    const out = await python('retries', 'down');
    expect(out.max_retries).toBe(2);
    expect(out.down).toMatchObject({ ok: false, status: 502, code: 'all_targets_failed', 'x-should-retry': 'false' });
    // Two targets, one retry each: 4 upstream requests, not 12 (the SDK's 3 calls × 4).
    expect(fakes.down1.counts.requests).toBe(2);
    expect(fakes.down2.counts.requests).toBe(2);
  });

  it('openai (Python): every target rate-limited → 429 with Retry-After and x-should-retry: true, and the SDK retry succeeds', async () => {
    fakes.limited.script({ kind: 'rate-limit', retryAfter: 1 });
    const out = await python('retries', 'limited');
    expect(out.limited).toMatchObject({ ok: true, content: 'Hello from limited' });
    expect(out.limited.seconds).toBeGreaterThanOrEqual(0.9);
    expect(fakes.limited.counts.requests).toBe(2);
  });
});

describe("the serving provider's response headers", () => {
  it("openai (Python): _request_id and x-ratelimit-* are the serving target's, never a failed attempt's; Anthropic's request-id is x-request-id too", async () => {
    fakes.primary.setBehaviour({ kind: 'status', status: 503, headers: { 'x-request-id': 'req_failed', 'x-ratelimit-limit-tokens': '1' } });
    fakes.backup.setBehaviour({ kind: 'ok', headers: { 'x-request-id': 'req_served', 'x-ratelimit-remaining-requests': '499' } });
    fakes.claude.setBehaviour({ kind: 'ok', headers: { 'request-id': 'req_011CUclaude', 'anthropic-ratelimit-requests-remaining': '49' } });
    const out = await python('headers', 'chat', 'claude');
    const served = { 'x-request-id': 'req_served', 'x-ratelimit-remaining-requests': '499' };
    expect(out.chat).toEqual({ request_id: 'req_served', headers: served, target: 'backup', stream: { headers: served, text: 'Hello from backup' } });
    const claude = { 'request-id': 'req_011CUclaude', 'x-request-id': 'req_011CUclaude', 'anthropic-ratelimit-requests-remaining': '49' };
    expect(out.claude).toEqual({ request_id: 'req_011CUclaude', headers: claude, target: 'claude', stream: { headers: claude, text: 'Hello from claude' } });
  });
});

describe('models/{id} and legacy completions', () => {
  it('openai (Python): models.retrieve, completions.create (plain and stream) skipping anthropic targets, and a clear 400 where no target can', async () => {
    const out = await python('endpoints', 'gpt-4o', 'mixed', 'claude');
    expect(out.model).toEqual({ id: 'gpt-4o', object: 'model', created: 0, owned_by: 'llmroute', root: 'chat' });
    expect(out.unknown_model).toMatchObject({ status: 404, code: 'model_not_found', 'x-should-retry': 'false' });
    expect(out.completion).toMatchObject({ object: 'text_completion', text: 'Hello from backup', finish_reason: 'stop', usage: { completion_tokens: 3 }, target: 'backup', fallbacks: '0' });
    expect(out.completion_stream).toEqual({ text: 'Hello from backup', finish_reasons: ['stop'], usage: expect.objectContaining({ completion_tokens: 3 }) });
    expect(out.chat_only).toMatchObject({ status: 400, message: expect.stringMatching(/^route 'claude' cannot serve \/v1\/completions: .*anthropic/) });
    expect(fakes.claude.counts.requests).toBe(0);
    expect(fakes.backup.requests.map((r) => [r.pathname, r.body.model, r.body.stream ?? false])).toEqual([
      ['/v1/completions', 'gpt-4o-mini', false],
      ['/v1/completions', 'gpt-4o-mini', true],
    ]);
  });
});

describe('Azure OpenAI clients', () => {
  it("openai (Python) AzureOpenAI: the deployment path picks the route; an older api-version's target gets no stream_options", async () => {
    const out = await python('azure', sidecar.baseURL.replace(/\/v1$/, ''), '2024-06-01', 'azold', 'embed');
    expect(out).toMatchObject({
      chat: { content: 'Hello from azure', route: 'azold' },
      stream: { text: 'Hello from azure' },
      embeddings: { count: 1, dims: 1536 },
      bound: { content: 'Hello from azure', route: 'azold' },
    });
    const chats = fakes.azure.requests.filter((r) => r.endpoint === 'chat');
    expect(chats.map((r) => [r.deployment, r.query['api-version'], r.stream, r.body.stream_options])).toEqual([
      ['my-deployment', '2024-06-01', false, undefined],
      ['my-deployment', '2024-06-01', true, undefined],
      ['my-deployment', '2024-06-01', false, undefined],
    ]);
    expect(fakes.azure.requests.every((r) => r.headers['api-key'] === 'sk-azure')).toBe(true);
  });

  it('the fake Azure refuses stream_options on an api-version older than 2024-09-01-preview, as Azure does', async () => {
    const url = `${fakes.azure.origin}/openai/deployments/d/chat/completions?api-version=2024-06-01`;
    const body = { messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } };
    const res = await fetch(url, { method: 'POST', headers: { 'api-key': 'sk-azure', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { message: 'Unrecognized request argument supplied: stream_options' } });
    const newer = await fetch(url.replace('2024-06-01', '2024-10-21'), { method: 'POST', headers: { 'api-key': 'sk-azure', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(newer.status).toBe(200);
    await newer.text();
  });
});

describe('request bodies', () => {
  const image = (bytes: number): string => `data:image/png;base64,${Buffer.alloc(bytes, 0x41).toString('base64')}`;
  const vision = (model: string, bytes: number) => ({
    model,
    messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'What is this?' }, { type: 'image_url' as const, image_url: { url: image(bytes) } }] }],
  });

  it("openai (Node): a 16 MiB vision request goes through under the default 32Mi; over a route's own maxRequestBody, 413 names it", async () => {
    const client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'app-key', maxRetries: 0 });
    const r = await client.chat.completions.create(vision('chat', 12 * 1024 * 1024));
    expect(r.choices[0]!.message.content).toBe('Hello from primary');
    expect(fakes.primary.requests[0]!.rawBody.length).toBeGreaterThan(15 * 1024 * 1024);
    const err = await client.chat.completions.create(vision('small', 1024 * 1024)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toMatch(/larger than 1Mi \(1048576 bytes\), the maxRequestBody of route 'small'/);
    expect(fakes.primary.counts.requests).toBe(1);
  });
});

describe('a stream its client leaves', () => {
  it('openai (Node): the client aborts while the upstream is silent → the upstream connection closes at once and the request is counted as 499', async () => {
    fakes.primary.setBehaviour({ kind: 'stall', afterChunks: 1 });
    const client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'app-key', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'hi' }], stream: true });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break; // leaves the loop: the SDK aborts the request
    }
    expect(fakes.primary.counts.requests).toBe(1);
    await eventually(() => fakes.primary.counts.inFlight === 0, 3000);
    await eventually(async () => (await sidecar.metric('llmroute_requests_total', { route: 'slow', status: '499' })) === 1, 3000);
    expect(await sidecar.metric('llmroute_inflight_requests')).toBe(0);
  });
});
