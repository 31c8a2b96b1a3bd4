/**
 * Secrets: API keys never leave the sidecar but in the one upstream header
 * that carries them.
 *
 *   - at every log level (debug, info, warn, error), through successes,
 *     every kind of failure, a provider that echoes a (masked) key, a
 *     refused reload whose file has a key in the wrong place, and the drain:
 *     no key in stdout or stderr, in an error body, in /metrics, in
 *     /v1/models;
 *   - an invalid config at start-up (exit 2) does not print its key;
 *   - the client's credentials (Authorization, x-api-key, api-key, cookies)
 *     never reach a provider, whatever the target's provider;
 *   - the admin port: every path and method tried answers with nothing
 *     secret, and only /healthz, /readyz and /metrics answer at all.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess } from '../support/sidecar-process.ts';
import { chatBody, send, startSidecarAt, until } from './harness.ts';

jest.setTimeout(60_000);

// Random bodies, so that no two secrets share a piece and a piece found is that secret's.
const r = (): string => randomBytes(18).toString('base64url');
const KEYS = {
  openai: `sk-proj-${r()}`,
  anthropic: `sk-ant-api03-${r()}`,
  azure: r(),
  fromEnv: `sk-${r()}`,
  fromFile: `sk-${r()}`,
  wrong: `sk-${r()}`,
  compat: r(),
};
const CLIENT = {
  authorization: `Bearer client-${r()}`,
  'x-api-key': `client-${r()}`,
  'api-key': `client-${r()}`,
  cookie: `session=client-${r()}`,
  'proxy-authorization': `Basic client-${r()}`,
};
const clientSecrets = Object.values(CLIENT).map((v) => v.replace(/^(Bearer|Basic) |^session=/, ''));
const SECRETS = [...Object.values(KEYS), ...clientSecrets];

/** Every secret, and every 12-character piece of one: a partial echo is a leak too (providers' masks show 3 + 4). */
function leaks(text: string, secrets: string[] = SECRETS): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    for (let i = 0; i + 12 <= s.length; i++) {
      const piece = s.slice(i, i + 12);
      if (text.includes(piece)) {
        found.push(`${s} (as "${piece}")`);
        break;
      }
    }
  }
  return found;
}

let openai: FakeProvider;
let anthropic: FakeProvider;
let azure: FakeProvider;
let compat: FakeProvider;
let dir: string;

function config(extra = ''): string {
  return `
routes:
- name: chat
  targets:
  - {name: openai, provider: openai, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: ${KEYS.openai}}}
- name: claude
  targets:
  - {name: claude, provider: anthropic, baseURL: "${anthropic.url}", model: claude-sonnet-4-5, apiKey: {env: ANTHROPIC_TEST_KEY}}
- name: azure
  targets:
  - {name: az, provider: azure-openai, baseURL: "${azure.origin}", apiVersion: "2024-10-21", model: dep, apiKey: {file: azure.key}}
- name: compat
  targets:
  - {name: local, provider: openai-compatible, baseURL: "${compat.url}", model: m, apiKey: {value: ${KEYS.compat}}}
- name: wrongkey
  retry: {attempts: 0}
  targets:
  - {name: wrong, provider: openai, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: ${KEYS.wrong}}}
  - {name: wrong-claude, provider: anthropic, baseURL: "${anthropic.url}", model: claude-sonnet-4-5, priority: 1, apiKey: {value: ${KEYS.wrong}}}
- name: failing
  retry: {attempts: 1, backoff: {initial: 1ms, max: 2ms}}
  timeouts: {firstByte: 300ms, idle: 300ms, total: 3s}
  targets:
  - {name: f1, provider: openai, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: ${KEYS.openai}}}
  - {name: f2, provider: anthropic, baseURL: "${anthropic.url}", model: claude-sonnet-4-5, priority: 1, apiKey: {env: ANTHROPIC_TEST_KEY}}
${extra}`;
}

beforeAll(async () => {
  openai = await startFakeProvider({ flavor: 'openai', name: 'openai', expectKey: KEYS.openai });
  anthropic = await startFakeProvider({ flavor: 'anthropic', name: 'anthropic', expectKey: KEYS.fromEnv });
  azure = await startFakeProvider({ flavor: 'openai', name: 'azure', expectKey: KEYS.fromFile });
  compat = await startFakeProvider({ flavor: 'openai', name: 'compat', expectKey: KEYS.compat });
  dir = mkdtempSync(join(tmpdir(), 'llmroute-secrets-'));
  writeFileSync(join(dir, 'azure.key'), `${KEYS.fromFile}\n`);
});

afterAll(async () => {
  await Promise.all([openai?.close(), anthropic?.close(), azure?.close(), compat?.close()]);
});

/** Everything a client can make the sidecar do, that could carry a key somewhere. */
async function exercise(baseURL: string): Promise<string[]> {
  const bodies: string[] = [];
  const ask = async (route: string, stream: boolean) => {
    const a = await send(`${baseURL}/chat/completions`, chatBody(route, stream), { headers: CLIENT });
    bodies.push(JSON.stringify(a.headers), a.text);
    return a;
  };
  for (const stream of [false, true]) {
    for (const route of ['chat', 'claude', 'azure', 'compat']) expect((await ask(route, stream)).status).toBe(200);
    // providers refuse the key (OpenAI's 401 echoes it masked): every target fails
    expect((await ask('wrongkey', stream)).status).toBe(502);
    // server errors, a reset, a stall, an error in the stream after content, a rate limit
    openai.script({ kind: 'status', status: 500 }, { kind: 'reset' });
    anthropic.script({ kind: 'headers-then-stall' }, { kind: 'rate-limit', retryAfter: 1 });
    await ask('failing', stream);
    openai.script({ kind: 'stream-error', afterChunks: 1, chunkDelayMs: 10, message: 'overloaded' });
    await ask('failing', stream);
    openai.script({ kind: 'status', status: 400, message: 'Invalid value', param: 'temperature' });
    await ask('failing', stream);
  }
  const models = await send(`${baseURL}/models`, undefined, { headers: CLIENT });
  bodies.push(models.text);
  const emb = await send(`${baseURL}/embeddings`, JSON.stringify({ model: 'chat', input: 'x' }), { headers: CLIENT });
  bodies.push(emb.text);
  // bad input of every kind
  for (const raw of ['{', '{"model":"nope","messages":[{"role":"user","content":"x"}]}', '{"model":"chat"}', `{"model":"${KEYS.openai}","messages":[]}`]) {
    const a = await send(`${baseURL}/chat/completions`, raw, { headers: CLIENT });
    // an error may repeat what the client itself sent (an unknown model), never a configured key
    bodies.push(a.text.split(KEYS.openai).join('<the client sent this>'));
  }
  return bodies;
}

describe('keys never leak', () => {
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    it(`at --log-level ${level}: not in logs, errors, metrics or /v1/models, through every kind of failure, a refused reload and the drain`, async () => {
      for (const f of [openai, anthropic, azure, compat]) f.reset();
      const sp = await startSidecarAt(config(), level, { dir, env: { ANTHROPIC_TEST_KEY: KEYS.fromEnv } });
      try {
        const bodies = await exercise(sp.baseURL);
        // a reload refused because a key sits where an object belongs: its problem must not quote it
        sp.writeConfig(config().replace(`apiKey: {value: ${KEYS.compat}}`, `apiKey: ${KEYS.compat}`));
        const refused = await until(async () => (await send(`${sp.adminURL}/metrics`, undefined)).text.includes('llmroute_config_reloads_total{result="error"} 1'), 5_000);
        expect(refused).toBe(true);
        const metrics = (await send(`${sp.adminURL}/metrics`, undefined)).text;
        const code = await sp.stop();
        expect(code).toBe(0);
        const out = sp.stdout();
        const err = sp.stderr();
        if (level === 'error') expect(out).toContain('config refused'); // the refusal was logged, and checked
        if (level === 'debug') expect(out).toContain('"level":"debug"');
        expect({ stdout: leaks(out), stderr: leaks(err), metrics: leaks(metrics), responses: leaks(bodies.join('\n')) }).toEqual({ stdout: [], stderr: [], metrics: [], responses: [] });
        // the keys did work: each target got its own
        expect(openai.requests.some((r) => r.headers.authorization === `Bearer ${KEYS.openai}`)).toBe(true);
        expect(anthropic.requests.some((r) => r.headers['x-api-key'] === KEYS.fromEnv)).toBe(true);
        expect(azure.requests.some((r) => r.headers['api-key'] === KEYS.fromFile)).toBe(true);
      } finally {
        if (sp.child.exitCode === null) sp.child.kill('SIGKILL');
      }
    });
  }

  it('an invalid config at start-up exits 2 without printing its key, wherever the key was put', async () => {
    const wrongPlaces = [
      config().replace(`apiKey: {value: ${KEYS.openai}}`, `apiKey: ${KEYS.openai}`),
      config().replace(`apiKey: {value: ${KEYS.openai}}`, `apiKey: [${KEYS.openai}]`),
      config().replace(`apiKey: {value: ${KEYS.openai}}`, `apiKey: {value: {key: ${KEYS.openai}}}`),
      config().replace(`apiKey: {value: ${KEYS.openai}}`, `apiKey: {value: ${KEYS.openai}, env: OPENAI_KEY}`),
      config().replace(`apiKey: {value: ${KEYS.openai}}`, `apiKey: {value: "${KEYS.openai}\n  broken: [`),
    ];
    for (const text of wrongPlaces) {
      const sp = await startSidecarProcess(text, { dir: mkdtempSync(join(tmpdir(), 'llmroute-secrets-')), waitReady: false });
      expect(await sp.exited).toBe(2);
      expect(sp.stderr()).toMatch(/invalid config|not valid YAML/);
      expect({ stdout: leaks(sp.stdout()), stderr: leaks(sp.stderr()) }).toEqual({ stdout: [], stderr: [] });
    }
  });
});

describe("the client's credentials never go upstream", () => {
  it('for every provider, streaming or not', async () => {
    for (const f of [openai, anthropic, azure, compat]) f.reset();
    const sp = await startSidecarAt(config(), 'info', { dir, env: { ANTHROPIC_TEST_KEY: KEYS.fromEnv } });
    try {
      for (const stream of [false, true]) {
        for (const route of ['chat', 'claude', 'azure', 'compat']) {
          const a = await send(`${sp.baseURL}/chat/completions`, chatBody(route, stream), { headers: CLIENT });
          expect(a.status).toBe(200);
        }
      }
      const upstream = [openai, anthropic, azure, compat].flatMap((f) => f.requests);
      expect(upstream.length).toBe(8);
      const own: Array<[FakeProvider, string]> = [[openai, KEYS.openai], [anthropic, KEYS.fromEnv], [azure, KEYS.fromFile], [compat, KEYS.compat]];
      for (const [fake, key] of own) {
        for (const r of fake.requests) {
          // none of the client's credentials, and no key but the target's own
          expect(leaks(JSON.stringify(r.headers) + r.rawBody + r.path, [...clientSecrets, ...Object.values(KEYS).filter((k) => k !== key)])).toEqual([]);
          expect(JSON.stringify(r.headers)).toContain(key);
          expect(r.headers.cookie).toBeUndefined();
          expect(r.headers['proxy-authorization']).toBeUndefined();
        }
      }
    } finally {
      await sp.stop();
    }
  });
});

describe('the admin port exposes nothing secret', () => {
  it('walks every path and method: only /healthz, /readyz and /metrics answer, none with a key', async () => {
    const sp = await startSidecarAt(config(), 'info', { dir, env: { ANTHROPIC_TEST_KEY: KEYS.fromEnv } });
    try {
      await send(`${sp.baseURL}/chat/completions`, chatBody('chat', false));
      const paths = [
        '/', '/healthz', '/readyz', '/metrics', '/metrics/', '/config', '/config.yaml', '/env', '/debug', '/debug/pprof', '/debug/vars',
        '/v1/models', '/v1/chat/completions', '/admin', '/status', '/routes', '/targets', '/secrets', '/credentials', '/.env',
        '/..%2f..%2fetc%2fpasswd', '/%2e%2e/config.yaml', '/metrics?format=json', '/metrics%00', '//metrics', '/HEALTHZ', '/server-status',
      ];
      const answered: string[] = [];
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE']) {
        for (const path of paths) {
          const a = await send(`${sp.adminURL}${path}`, method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'TRACE' ? undefined : '{}', { method, headers: CLIENT });
          expect([`${method} ${path}`, leaks(a.text + JSON.stringify(a.headers))]).toEqual([`${method} ${path}`, []]);
          expect(a.status).toBeLessThan(500);
          if (a.status < 300) answered.push(`${method} ${path}`);
        }
      }
      // GET and HEAD answer on the three paths (a trailing slash and a query string are ignored)
      for (const a of answered) expect(a).toMatch(/^(GET|HEAD) \/(healthz|readyz|metrics)\/?(\?format=json)?$/i);
      const metrics = (await send(`${sp.adminURL}/metrics`, undefined)).text;
      // labels are names from the config, never URLs or keys
      expect(metrics).not.toContain('127.0.0.1');
      expect(metrics).not.toMatch(/apiKey|api_key|authorization/i);
    } finally {
      await sp.stop();
    }
  });
});

