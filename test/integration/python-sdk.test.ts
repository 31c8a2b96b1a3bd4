/**
 * The official openai Python SDK against the sidecar, as a Python app would
 * call it: the pattern for the Python-SDK tests. Each test runs a script of
 * test/python/ with the venv of `bash hack/python-env.sh` (which fails the
 * test, saying so, when the venv is missing) and checks the JSON it prints.
 */
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { runPythonScript } from '../realserver/python-env.ts';

let provider: FakeProvider;
let sidecar: SidecarProcess;

beforeAll(async () => {
  provider = await startFakeProvider({ flavor: 'openai', name: 'openai', expectKey: 'sk-provider', text: 'Hello from the provider', chunks: 3 });
  sidecar = await startSidecarProcess(`
routes:
- name: chat
  targets:
  - {name: openai, provider: openai, baseURL: "${provider.url}", model: gpt-4o-mini, apiKey: {value: sk-provider}}
`);
});

afterAll(async () => {
  await sidecar?.stop();
  await provider?.close();
});

it('openai (Python): a chat completion and a stream with usage, configured by OPENAI_BASE_URL alone', async () => {
  const out = await runPythonScript('openai_chat.py', ['chat'], { OPENAI_BASE_URL: sidecar.baseURL, OPENAI_API_KEY: 'app-key-that-must-not-travel' });
  expect(out).toMatchObject({
    sdk: expect.stringMatching(/^openai 3\./),
    chat: {
      content: 'Hello from the provider',
      finish_reason: 'stop',
      usage: { completion_tokens: 3 },
      headers: { 'x-llmroute-route': 'chat', 'x-llmroute-target': 'openai', 'x-llmroute-attempts': '1', 'x-llmroute-fallbacks': '0' },
    },
    stream: { text: 'Hello from the provider', finish_reasons: ['stop'], usage: { completion_tokens: 3 } },
  });
  // Both calls reached the provider as the route's model, with the route's key, not the app's.
  expect(provider.requests.map((r) => [r.endpoint, r.body.model, r.body.stream ?? false, r.headers.authorization])).toEqual([
    ['chat', 'gpt-4o-mini', false, 'Bearer sk-provider'],
    ['chat', 'gpt-4o-mini', true, 'Bearer sk-provider'],
  ]);
});
