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
let sidecar: SidecarProcess;

beforeAll(async () => {
  primary = await startFakeProvider({ flavor: 'openai', name: 'primary', text: 'Hello from the primary', chunks: 3 });
  backup = await startFakeProvider({ flavor: 'openai', name: 'backup', text: 'Hello from the backup', chunks: 3 });
  sidecar = await startSidecarProcess(`
routes:
- name: slow
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - {name: backup, provider: openai, baseURL: "${backup.url}", model: gpt-4o-mini, priority: 1, apiKey: {value: sk-backup}}
  timeouts: {firstByte: 300ms}
`);
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([primary?.close(), backup?.close()]);
});

beforeEach(() => {
  primary.reset();
  backup.reset();
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
