/**
 * Issue 12, "no cost for those who don't use it", in a real sidecar process:
 * one whose routes name only openai and anthropic targets serves requests on
 * both without loading any AWS or Google package; one with bedrock and
 * vertex targets loads them on their first request (the probe's control).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess } from '../support/sidecar-process.ts';

const PROBE = fileURLToPath(new URL('../support/module-probe.mjs', import.meta.url));
const CLOUD = /[\\/]node_modules[\\/](@aws-sdk|@smithy|@aws-crypto|google-auth-library|gaxios|gcp-metadata|gtoken)[\\/]/;
let openai: FakeProvider;
let anthropic: FakeProvider;

beforeAll(async () => {
  openai = await startFakeProvider({ flavor: 'openai', name: 'openai', text: 'Hello from openai' });
  anthropic = await startFakeProvider({ flavor: 'anthropic', name: 'anthropic', text: 'Hello from anthropic' });
});

afterAll(async () => {
  await Promise.all([openai?.close(), anthropic?.close()]);
});

/** Runs a sidecar on `config`, sends one request (stream and not) to each route, and returns the cloud packages it loaded. */
async function cloudModulesLoaded(config: string, routes: string[]): Promise<string[]> {
  const out = join(mkdtempSync(join(tmpdir(), 'llmroute-probe-')), 'modules.json');
  const sidecar = await startSidecarProcess(config, { env: { NODE_OPTIONS: `--import=${PROBE}`, LLMROUTE_MODULE_PROBE_OUT: out, AWS_EC2_METADATA_DISABLED: 'true' } });
  try {
    const client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
    for (const model of routes) {
      const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] });
      expect(r.choices[0]!.message.content).toMatch(/^Hello from/);
      const s = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], stream: true });
      for await (const _ of s) void _;
    }
  } finally {
    await sidecar.stop();
  }
  const loaded = JSON.parse(readFileSync(out, 'utf8')) as string[];
  expect(loaded.some((m) => m.includes('providers/vertex.ts'))).toBe(true);
  return [...new Set(loaded.filter((m) => CLOUD.test(m)).map((m) => CLOUD.exec(m)![1]!))].sort();
}

const policy = `
  retry: {attempts: 0}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;

it('a sidecar with only openai and anthropic targets loads no AWS or Google package', async () => {
  const config = `routes:
- name: gpt
  targets:
  - {name: openai, provider: openai, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: sk-x}}
${policy}
- name: claude
  targets:
  - {name: anthropic, provider: anthropic, baseURL: "${anthropic.url}", model: claude-sonnet-4-5, apiKey: {value: sk-ant-x}}
${policy}
`;
  expect(await cloudModulesLoaded(config, ['gpt', 'claude'])).toEqual([]);
}, 60_000);

it('control: bedrock and vertex targets load their packages on their first request', async () => {
  // Both fail (the bedrock endpoint is the openai fake, the vertex Secret is no key file) and fall back to openai.
  const config = `routes:
- name: claude
  targets:
  - {name: bedrock, provider: bedrock, region: us-east-1, endpoint: "${new URL(openai.url).origin}", model: m, apiKey: {value: ABSK-key}}
  - {name: vertex, provider: vertex, priority: 1, project: my-project-1, location: us-east5, model: gemini-2.5-flash, apiKey: {value: not-a-key-file}}
  - {name: openai, provider: openai, priority: 2, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: sk-x}}
${policy}
`;
  const loaded = await cloudModulesLoaded(config, ['claude']);
  expect(loaded).toEqual(expect.arrayContaining(['@smithy', 'google-auth-library']));
}, 60_000);
