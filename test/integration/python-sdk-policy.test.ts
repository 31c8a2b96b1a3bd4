/**
 * Issue 10, as the Python clients that found it saw it, against the real
 * sidecar with fake providers (scripts of test/python/, run with the venv
 * of `bash hack/python-env.sh`).
 */
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { runPythonScript } from '../realserver/python-env.ts';

let primary: FakeProvider;
let backup: FakeProvider;
let claude: FakeProvider;
let sidecar: SidecarProcess;

beforeAll(async () => {
  primary = await startFakeProvider({ flavor: 'openai', name: 'primary', text: 'Hello from the primary', chunks: 3 });
  backup = await startFakeProvider({ flavor: 'openai', name: 'backup', text: 'Hello from the backup', chunks: 3 });
  // A Claude model that refuses temperature, top_p and top_k, as Opus 4.7 and later do.
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', text: 'Hello from Claude', chunks: 3, refusesParams: ['temperature', 'top_p', 'top_k'] });
  sidecar = await startSidecarProcess(`
routes:
- name: outage
  targets:
  - {name: openai, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - {name: claude, provider: anthropic, baseURL: "${claude.url}", model: claude-opus-4-7, priority: 1, apiKey: {value: sk-claude}}
  retry: {attempts: 0}
- name: shaped
  targets:
  - {name: openai, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - name: claude
    provider: anthropic
    baseURL: "${claude.url}"
    model: claude-opus-4-7
    priority: 1
    apiKey: {value: sk-claude}
    params: {drop: [temperature], set: {metadata: {user_id: pod-a}}}
  retry: {attempts: 0}
- name: slow
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - {name: backup, provider: openai, baseURL: "${backup.url}", model: gpt-4o-mini, priority: 1, apiKey: {value: sk-backup}}
  timeouts: {firstByte: 300ms}
`);
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([primary?.close(), backup?.close(), claude?.close()]);
});

beforeEach(() => {
  primary.reset();
  backup.reset();
  claude.reset();
});

it('openai (Python): an answer that takes longer than firstByte is served by the target that generated it, once (firstByte 300ms, a 1 s answer)', async () => {
  // Before issue 10 firstByte bounded the whole non-stream answer: the primary's 1 s generation
  // was cut at 300ms and generated again by the backup (two generations billed). A stream that
  // thinks for 1 s, pinging, is the same at its commit point.
  primary.setBehaviour((req) => (req.stream ? { kind: 'pings', everyMs: 100, replyAfterMs: 1000 } : { kind: 'ok', thinkMs: 1000 }));
  const out = await runPythonScript('openai_chat.py', ['slow'], { OPENAI_BASE_URL: sidecar.baseURL, OPENAI_API_KEY: 'app-key' });
  expect(out).toMatchObject({
    chat: {
      content: 'Hello from the primary',
      headers: { 'x-llmroute-target': 'primary', 'x-llmroute-attempts': '1', 'x-llmroute-fallbacks': '0' },
    },
    stream: { text: 'Hello from the primary', finish_reasons: ['stop'] },
  });
  expect(primary.requests.map((r) => r.stream)).toEqual([false, true]);
  expect(backup.requests).toHaveLength(0);
});

describe('langchain-openai (ChatOpenAI, temperature=0) during an OpenAI outage, the backup a Claude model that refuses temperature', () => {
  it("the refusal is retried once without temperature and remembered: the app gets Claude's answer, not a 400", async () => {
    primary.setBehaviour({ kind: 'status', status: 503 });
    try {
      const out = await runPythonScript('langchain_chat.py', ['outage'], { LLMROUTE_BASE_URL: sidecar.baseURL });
      expect(out).toMatchObject({ sdk: expect.stringMatching(/^langchain-openai 1\./), invoke: { content: 'Hello from Claude', finish_reason: 'stop' }, stream: { text: 'Hello from Claude' } });
    } finally {
      primary.setBehaviour(undefined);
    }
    // LangChain sent temperature 0 both times; Claude refused it once, then never saw it again.
    expect(primary.requests.map((r) => r.body.temperature)).toEqual([0, 0]);
    expect(claude.requests.map((r) => [r.outcome, r.stream, r.body.temperature])).toEqual([
      ['param-refused', false, 0],
      ['ok', false, undefined],
      ['ok', true, undefined],
    ]);
    // The refused try is an upstream attempt like any other; the learning is logged once, at info.
    expect(await sidecar.metric('llmroute_upstream_attempts_total', { route: 'outage', target: 'claude', outcome: 'bad-request' })).toBe(1);
    expect(await sidecar.metric('llmroute_upstream_attempts_total', { route: 'outage', target: 'claude', outcome: 'ok' })).toBe(2);
    const learned = sidecar.logs.filter((l) => l.msg === 'target refuses a parameter: dropping it from its requests');
    expect(learned).toEqual([expect.objectContaining({ level: 'info', route: 'outage', target: 'claude', model: 'claude-opus-4-7', param: 'temperature' })]);
  });

  it("a target's params drop and set on the provider's body: no refusal at all", async () => {
    primary.setBehaviour({ kind: 'status', status: 503 });
    try {
      const out = await runPythonScript('langchain_chat.py', ['shaped'], { LLMROUTE_BASE_URL: sidecar.baseURL });
      expect(out).toMatchObject({ invoke: { content: 'Hello from Claude' }, stream: { text: 'Hello from Claude' } });
    } finally {
      primary.setBehaviour(undefined);
    }
    expect(claude.requests.map((r) => [r.outcome, r.body.temperature, r.body.metadata])).toEqual([
      ['ok', undefined, { user_id: 'pod-a' }],
      ['ok', undefined, { user_id: 'pod-a' }],
    ]);
    // The rest of the translated body is as the adapter wrote it.
    expect(claude.requests[0]!.body).toMatchObject({ model: 'claude-opus-4-7', messages: [expect.objectContaining({ role: 'user' })] });
    expect(typeof claude.requests[0]!.body.max_tokens).toBe('number');
  });
});
