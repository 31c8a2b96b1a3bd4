/**
 * GET, DELETE, GET …/input_items and POST …/cancel of /v1/responses/{id}
 * through the sidecar, driven by the official openai Node SDK: answered from
 * the sidecar's store, or passed to the native target that holds the id (a
 * background response's progress and cancel, a delete at the provider too),
 * or, for an id the store does not hold, asked of each native target. The
 * fake's background responses move on per GET or by advanceBackground:
 * no sleeps.
 */
import OpenAI from 'openai';
import { parseSSE } from '../fakes/sse.ts';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let gpt: FakeProvider;
let claude: FakeProvider;
let flaky: FakeProvider;
let sidecar: SidecarProcess;
let client: OpenAI;
/** The openai SDK pointed at the gpt fake itself, as another replica or an earlier sidecar would have used it. */
let direct: OpenAI;

const policy = `
  retry: {attempts: 0}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;

beforeAll(async () => {
  gpt = await startFakeProvider({ flavor: 'openai', name: 'gpt', expectKey: 'sk-openai-real', text: 'Hello from gpt' });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', expectKey: 'sk-ant-real', text: 'Hello from claude' });
  flaky = await startFakeProvider({ flavor: 'openai', name: 'flaky', expectKey: 'sk-flaky-real', text: 'Hello from flaky', backgroundProgress: 'manual' });
  sidecar = await startSidecarProcess(`routes:
- name: gpt
  targets:
  - {name: gpt, provider: openai, baseURL: "${gpt.url}", model: gpt-4.1-mini, apiKey: {value: sk-openai-real}}
${policy}
- name: claude-only
  targets:
  - {name: claude, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}
${policy}
- name: flaky
  targets:
  - {name: flaky, provider: openai, baseURL: "${flaky.url}", model: gpt-4.1-mini, apiKey: {value: sk-flaky-real}}
${policy}
`);
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'the-clients-own-key', maxRetries: 0 });
  direct = new OpenAI({ baseURL: gpt.url, apiKey: 'sk-openai-real', maxRetries: 0 });
});

afterEach(() => {
  gpt.reset();
  claude.reset();
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([gpt?.close(), claude?.close(), flaky?.close()]);
});

const gets = (fake: FakeProvider): number => fake.requests.filter((r) => r.endpoint === 'response-get').length;

describe('a background response served by a native target', () => {
  it('retrieve polls the target until it completes, then the store answers', async () => {
    const r = await client.responses.create({ model: 'gpt', input: 'Say hello', background: true });
    expect(r).toMatchObject({ status: 'queued', background: true });
    const seen: string[] = [];
    let got = await client.responses.retrieve(r.id);
    for (let i = 0; got.status !== 'completed' && i < 5; i++) {
      seen.push(got.status!);
      got = await client.responses.retrieve(r.id);
    }
    expect(seen).toEqual(['in_progress']);
    expect(got.output_text).toBe('Hello from gpt');
    expect(gets(gpt)).toBe(2);
    const sent = gpt.requests.find((q) => q.endpoint === 'response-get')!;
    expect(sent.pathname).toBe(`/v1/responses/${r.id}`);
    expect(sent.headers.authorization).toBe('Bearer sk-openai-real');
    // Completed: from the sidecar's store, the target not asked again.
    expect((await client.responses.retrieve(r.id)).output_text).toBe('Hello from gpt');
    expect(gets(gpt)).toBe(2);
  });

  it('cancel is passed to the target; the stored status moves to cancelled', async () => {
    gpt.setBackgroundProgress('manual');
    const r = await client.responses.create({ model: 'gpt', input: 'x', background: true });
    const cancelled = await client.responses.cancel(r.id);
    expect(cancelled).toMatchObject({ id: r.id, status: 'cancelled', background: true });
    expect(gpt.responseStatus(r.id)).toBe('cancelled');
    expect(gpt.requests.at(-1)).toMatchObject({ endpoint: 'response-cancel', method: 'POST' });
    expect((await client.responses.retrieve(r.id)).status).toBe('cancelled');
    expect(gets(gpt)).toBe(0);
    // Cancelling again: the target's own 400, as it gave it.
    await expect(client.responses.cancel(r.id)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/already been cancelled/) });
  });

  it('cancel of a response that was not background: the target says why', async () => {
    const r = await client.responses.create({ model: 'gpt', input: 'x' });
    await expect(client.responses.cancel(r.id)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/Only responses created with background=true can be cancelled/) });
  });

  it('GET ?stream=true resumes the background stream from the target, relayed as it came', async () => {
    const r = await client.responses.create({ model: 'gpt', input: 'x', background: true });
    const res = await fetch(`${sidecar.baseURL}/responses/${r.id}?stream=true&starting_after=0`, { headers: { authorization: 'Bearer the-clients-own-key' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = parseSSE(await res.text()).map((e) => JSON.parse(e.data));
    expect(data.at(-1)).toMatchObject({ type: 'response.completed', response: { id: r.id, status: 'completed', background: true } });
    expect(gpt.requests.at(-1)).toMatchObject({ endpoint: 'response-get', query: { stream: 'true', starting_after: '0' } });
  });
});

describe('delete', () => {
  it('deletes at the target too', async () => {
    const r = await client.responses.create({ model: 'gpt', input: 'x' });
    expect(gpt.hasResponse(r.id)).toBe(true);
    await client.responses.delete(r.id);
    expect(gpt.hasResponse(r.id)).toBe(false);
    expect(gpt.requests.at(-1)).toMatchObject({ endpoint: 'response-delete', method: 'DELETE' });
    await expect(client.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 });
  });

  it('a response the target no longer has: deleted locally, 200', async () => {
    const r = await client.responses.create({ model: 'gpt', input: 'x' });
    await direct.responses.delete(r.id);
    const res = await fetch(`${sidecar.baseURL}/responses/${r.id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: r.id, object: 'response', deleted: true });
  });

  it('a translated response: the store only', async () => {
    const r = await client.responses.create({ model: 'claude-only', input: 'x' });
    await expect(client.responses.cancel(r.id)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/background=true/) });
    await client.responses.delete(r.id);
    await expect(client.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 });
    expect(claude.requests.filter((q) => q.endpoint !== 'messages')).toEqual([]);
  });
});

describe('an id the sidecar does not hold', () => {
  it('is retrieved from the native target that has it, and not stored', async () => {
    const r = await direct.responses.create({ model: 'gpt-4.1-mini', input: 'made elsewhere' });
    const got = await client.responses.retrieve(r.id);
    expect(got).toMatchObject({ id: r.id, status: 'completed' });
    expect(got.output_text).toBe('Hello from gpt');
    const items = await client.responses.inputItems.list(r.id);
    expect(items.data).toEqual([expect.objectContaining({ type: 'message', role: 'user' })]);
    await client.responses.retrieve(r.id);
    expect(gets(gpt)).toBe(2);
    await client.responses.delete(r.id);
    expect(gpt.hasResponse(r.id)).toBe(false);
  });

  it('is a 404 in OpenAI words when no target has it', async () => {
    const err = (await client.responses.retrieve('resp_nobody').catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(404);
    expect(err.message).toMatch(/Response with id 'resp_nobody' not found\./);
    expect(gets(gpt)).toBe(1);
    expect(flaky.requests.filter((q) => q.endpoint === 'response-get').length).toBeGreaterThan(0);
  });
});

describe('the native target down', () => {
  let terminal: string;
  let background: string;
  let deletable: string;

  it('(set-up) responses served by the flaky target, then it goes away', async () => {
    terminal = (await client.responses.create({ model: 'flaky', input: 'x' })).id;
    background = (await client.responses.create({ model: 'flaky', input: 'x', background: true })).id;
    deletable = (await client.responses.create({ model: 'flaky', input: 'x' })).id;
    await flaky.close();
  });

  it('a terminal stored response is answered from the store', async () => {
    const got = await client.responses.retrieve(terminal);
    expect(got.output_text).toBe('Hello from flaky');
  });

  it("a background one is the clear error, not the store's stale status", async () => {
    const err = (await client.responses.retrieve(background).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(502);
    expect(err.message).toMatch(new RegExp(`response '${background}' is queued \\(a background response\\) at target 'flaky' of route 'flaky', which could not be reached`));
    expect(err.message).toMatch(/stale/);
    expect((err.error as { type?: string }).type).toBe('llmroute_upstream_unavailable');
    expect(err.message).not.toMatch(/sk-/);
  });

  it('delete: done locally, a 502 says the provider copy remains', async () => {
    const err = (await client.responses.delete(deletable).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(502);
    expect(err.message).toMatch(/could not be deleted/);
    expect(err.message).not.toMatch(/sk-/);
    // Not held any more: asked of every native target; gpt has no such id (flaky still down).
    await expect(client.responses.retrieve(deletable)).rejects.toMatchObject({ status: 404 });
  });
});
