/**
 * Issue 12: cloud providers through a real sidecar process and the official
 * openai Node SDK. Claude on the Anthropic API failing over to Claude on
 * Bedrock, signed with credentials from a fake EKS Pod Identity endpoint
 * (no static keys; they expire within the SDK's refresh window, so every
 * request refreshes them) and checked by a fake Bedrock that verifies
 * SigV4 with aws4; Bedrock with a static key pair and a VPC endpoint, with
 * a bearer API key, and exception frames; Gemini failing over to an OpenAI
 * target, and Gemini's own answers (stream and not), SAFETY blocks and
 * blocked prompts.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/fake-bedrock.ts';
import { CredentialStore, startFakeContainerCredentials, type FakeContainerCredentials } from '../fakes/fake-aws-credentials.ts';
import { startFakeGemini, type FakeGemini } from '../fakes/fake-gemini.ts';
import { eventually, startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { streamChat } from '../support/chat-client.ts';

const MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
let anthropic: FakeProvider;
let openai: FakeProvider;
let bedrock: FakeBedrock;
let keyed: FakeBedrock;
let creds: FakeContainerCredentials;
let gemini: FakeGemini;
let sidecar: SidecarProcess;
let client: OpenAI;
const store = new CredentialStore();
const staticKey = store.add(CredentialStore.key());

const policy = `
  retry: {attempts: 0}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;

beforeAll(async () => {
  anthropic = await startFakeProvider({ flavor: 'anthropic', name: 'anthropic', behaviour: { kind: 'status', status: 529 } });
  openai = await startFakeProvider({ flavor: 'openai', name: 'openai', text: 'Hello from openai' });
  creds = await startFakeContainerCredentials(store, { ttlMs: 60_000 });
  bedrock = await startFakeBedrock({ region: 'us-west-2', store, text: 'Hello from bedrock' });
  keyed = await startFakeBedrock({ region: 'eu-central-1', store, apiKey: 'ABSKbedrock-api-key', text: 'Hello from keyed bedrock' });
  gemini = await startFakeGemini({ apiKey: 'AIza-fake', text: 'Hello from gemini' });
  const secretJson = JSON.stringify({ accessKeyId: staticKey.accessKeyId, secretAccessKey: staticKey.secretAccessKey });
  sidecar = await startSidecarProcess(
    `routes:
- name: claude
  targets:
  - {name: anthropic, provider: anthropic, baseURL: "${anthropic.url}", model: claude-sonnet-4-5, apiKey: {value: sk-ant-x}}
  - {name: bedrock, provider: bedrock, priority: 1, region: us-west-2, endpoint: "${bedrock.url}", model: "${MODEL}"}
${policy}
- name: claude-keys
  targets:
  - {name: vpce, provider: bedrock, region: eu-central-1, endpoint: "${keyed.url}", model: "${MODEL}", apiKey: {value: '${secretJson}'}}
  - {name: openai, provider: openai, priority: 1, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: sk-x}}
${policy}
- name: claude-bearer
  targets:
  - {name: bearer, provider: bedrock, region: eu-central-1, endpoint: "${keyed.url}/", model: "${MODEL}", apiKey: {value: ABSKbedrock-api-key}}
${policy}
- name: gem
  targets:
  - {name: gemini, provider: gemini, baseURL: "${gemini.url}", model: gemini-2.5-flash, apiKey: {value: AIza-fake}}
  - {name: openai, provider: openai, priority: 1, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: sk-x}}
${policy}
`,
    { env: { ...creds.env, AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' } },
  );
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([anthropic?.close(), openai?.close(), bedrock?.close(), keyed?.close(), creds?.close(), gemini?.close()]);
});

describe('anthropic -> Claude on bedrock, credentials from EKS Pod Identity', () => {
  it('non-stream and stream, signed with refreshed pod credentials', async () => {
    const r = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], max_tokens: 50 });
    expect(r.choices[0]!.message.content).toBe('Hello from bedrock');
    expect(r.usage?.prompt_tokens).toBeGreaterThan(0);
    const s = await streamChat(client, 'claude');
    expect(s).toMatchObject({ text: 'Hello from bedrock', finish: 'stop', refusal: '' });
    expect(bedrock.refusals).toEqual([]);
    const sent = bedrock.requests.filter((q) => q.outcome === 'ok');
    expect(sent.map((q) => q.pathname)).toEqual([`/model/${encodeURIComponent(MODEL)}/converse`, `/model/${encodeURIComponent(MODEL)}/converse-stream`]);
    expect(sent[0]!.body).toMatchObject({ system: [{ text: 'Be brief.' }], messages: [{ role: 'user', content: [{ text: 'Hi' }] }], inferenceConfig: { maxTokens: 50 } });
    expect(sent[0]!.headers.host).toBe('bedrock-runtime.us-west-2.amazonaws.com');
    // Credentials that expire within five minutes are refreshed in the background (the request at
    // hand still signs with the valid ones): the next request signs with the new ones.
    await eventually(() => creds.issued.length >= 2);
    const tokens = creds.issued.map((k) => k.sessionToken);
    expect(tokens).toContain(sent[0]!.headers['x-amz-security-token']);
    await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] });
    const third = bedrock.requests.at(-1)!.headers['x-amz-security-token'];
    expect(creds.issued.map((k) => k.sessionToken)).toContain(third);
    expect(third).not.toBe(sent[0]!.headers['x-amz-security-token']);
    expect(creds.requests.every((q) => q.outcome === 'issue')).toBe(true);
  });

  it('a tool call comes back through the stream as tool_calls', async () => {
    const before = bedrock.requests.length;
    bedrock.script({ kind: 'ok', toolCall: true });
    const s = await client.chat.completions.create({
      model: 'claude',
      stream: true,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
    });
    let args = '';
    let name = '';
    let finish = '';
    for await (const c of s) {
      const tc = c.choices[0]?.delta.tool_calls?.[0];
      if (tc?.function?.name) name = tc.function.name;
      args += tc?.function?.arguments ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect({ name, finish }).toEqual({ name: 'weather', finish: 'tool_calls' });
    expect(typeof JSON.parse(args).city).toBe('string');
    expect(bedrock.requests[before]!.body.toolConfig.tools[0].toolSpec.name).toBe('weather');
  });
});

describe('the Anthropic SDK (Messages API) through the same failover', () => {
  it('anthropic down → Claude on bedrock: the Message and the stream helper, signed with pod credentials', async () => {
    const anthropicSdk = new Anthropic({ baseURL: sidecar.baseURL.replace(/\/v1$/, ''), apiKey: 'unused', maxRetries: 0 });
    const before = bedrock.requests.length;
    const m = await anthropicSdk.messages.create({ model: 'claude', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] });
    expect(m.content).toEqual([{ type: 'text', text: 'Hello from bedrock' }]);
    expect(m.stop_reason).toBe('end_turn');
    const final = await anthropicSdk.messages.stream({ model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'Hello from bedrock' }]);
    const sent = bedrock.requests.slice(before);
    expect(sent.map((q) => [q.pathname, q.outcome])).toEqual([
      [`/model/${encodeURIComponent(MODEL)}/converse`, 'ok'],
      [`/model/${encodeURIComponent(MODEL)}/converse-stream`, 'ok'],
    ]);
    expect(sent[0]!.body).toMatchObject({ system: [{ text: 'Be brief.' }], inferenceConfig: { maxTokens: 64 } });
    expect(bedrock.refusals).toEqual([]);
  });
});

describe('bedrock with a Secret: an access key pair through a VPC endpoint, a bearer API key', () => {
  it('signs with the static key pair for the regional host', async () => {
    const r = await client.chat.completions.create({ model: 'claude-keys', messages: [{ role: 'user', content: 'Hi' }] });
    expect(r.choices[0]!.message.content).toBe('Hello from keyed bedrock');
    const last = keyed.requests.at(-1)!;
    expect(last.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${staticKey.accessKeyId}/\\d{8}/eu-central-1/bedrock/aws4_request`));
    expect(last.headers['x-amz-security-token']).toBeUndefined();
  });

  it('sends the API key as a bearer token', async () => {
    const s = await streamChat(client, 'claude-bearer');
    expect(s.text).toBe('Hello from keyed bedrock');
    expect(keyed.requests.at(-1)!.headers.authorization).toBe('Bearer ABSKbedrock-api-key');
  });

  it('throttling: an error status and an exception frame before the commit point fall back; after it, the stream ends with an error', async () => {
    keyed.script({ kind: 'error', type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' });
    expect((await client.chat.completions.create({ model: 'claude-keys', messages: [{ role: 'user', content: 'Hi' }] })).choices[0]!.message.content).toBe('Hello from openai');
    keyed.script({ kind: 'exception', afterChunks: 0, exceptionType: 'throttlingException', message: 'Too many tokens, please wait before trying again.' });
    expect((await streamChat(client, 'claude-keys')).text).toBe('Hello from openai');
    keyed.script({ kind: 'exception', afterChunks: 2, exceptionType: 'modelStreamErrorException', message: 'The model stream failed.' });
    await expect(streamChat(client, 'claude-keys')).rejects.toThrow(/model stream failed|server-error|stream/i);
  });

  it('a wrong key pair is refused by the fake (InvalidSignatureException) and counted as auth', async () => {
    const fake = await startFakeBedrock({ region: 'eu-central-1', store: new CredentialStore() });
    try {
      const one = await startSidecarProcess(`routes:
- name: bad
  targets:
  - {name: b, provider: bedrock, region: eu-central-1, endpoint: "${fake.url}", model: m, apiKey: {value: '${JSON.stringify({ accessKeyId: staticKey.accessKeyId, secretAccessKey: 'wrong' })}'}}
${policy}
`);
      try {
        fake.store.add({ ...staticKey });
        const c = new OpenAI({ baseURL: one.baseURL, apiKey: 'unused', maxRetries: 0 });
        const err = await c.chat.completions.create({ model: 'bad', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OpenAI.APIError);
        expect(fake.refusals).toEqual(['InvalidSignatureException']);
        expect(JSON.stringify((err as InstanceType<typeof OpenAI.APIError>).error)).toMatch(/"class":"auth"/);
        expect(JSON.stringify((err as InstanceType<typeof OpenAI.APIError>).error)).not.toContain('wrong');
      } finally {
        await one.stop();
      }
    } finally {
      await fake.close();
    }
  });
});

describe('gemini', () => {
  it('answers, streamed and not', async () => {
    const r = await client.chat.completions.create({ model: 'gem', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] });
    expect(r.choices[0]!.message.content).toBe('Hello from gemini');
    expect(await streamChat(client, 'gem')).toMatchObject({ text: 'Hello from gemini', finish: 'stop', refusal: '' });
    const sent = gemini.requests.filter((q) => q.outcome === 'ok');
    expect(sent.map((q) => q.path)).toEqual(['/v1beta/models/gemini-2.5-flash:generateContent', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse']);
    expect(sent[0]!.body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }] });
  });

  it('fails over to openai on rate limits, 503s, cut streams and mid-stream errors before content', async () => {
    gemini.script({ kind: 'rate-limit' });
    expect((await client.chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'Hi' }] })).choices[0]!.message.content).toBe('Hello from openai');
    gemini.script({ kind: 'status', status: 503, message: 'The model is overloaded. Please try again later.' });
    expect((await streamChat(client, 'gem')).text).toBe('Hello from openai');
    gemini.script({ kind: 'cut', afterChunks: 0 });
    expect((await streamChat(client, 'gem')).text).toBe('Hello from openai');
    gemini.script({ kind: 'stream-error', afterChunks: 0 });
    expect((await streamChat(client, 'gem')).text).toBe('Hello from openai');
  });

  it('SAFETY is a refusal with content_filter, not a clean answer; a blocked prompt is a 400 that does not fall back', async () => {
    gemini.script({ kind: 'finish', finishReason: 'SAFETY', afterChunks: 0 });
    const r = await client.chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'Hi' }] });
    expect(r.choices[0]!.finish_reason).toBe('content_filter');
    expect(r.choices[0]!.message.refusal).toMatch(/blocked by Gemini \(finishReason SAFETY\)/);
    gemini.script({ kind: 'finish', finishReason: 'RECITATION', afterChunks: 1 });
    const s = await streamChat(client, 'gem');
    expect(s.finish).toBe('content_filter');
    expect(s.refusal).toMatch(/RECITATION/);
    const before = openai.requests.length;
    gemini.script({ kind: 'blocked-prompt' });
    const err = await client.chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('content_filter');
    expect(openai.requests.length).toBe(before);
  });
});
