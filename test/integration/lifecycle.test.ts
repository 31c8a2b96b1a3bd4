/**
 * The sidecar's life: start-up errors, hot reload (rename, overwrite, the
 * kubelet's ..data symlink swap), refused configs, and the SIGTERM drain.
 */
import OpenAI from 'openai';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { eventually, startSidecarProcess } from '../support/sidecar-process.ts';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider({ flavor: 'openai', name: 'fake' });
});
afterAll(async () => fake?.close());
beforeEach(() => fake.reset());

const config = (routes: string[]) =>
  `routes:\n${routes.map((r) => `- name: ${r}\n  targets:\n  - {name: t, provider: openai-compatible, baseURL: "${fake.url}", model: m}\n`).join('')}`;

async function modelIds(baseURL: string): Promise<string[]> {
  const res = await fetch(`${baseURL}/models`);
  return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

describe('start-up', () => {
  it('exits 2 with a clear message on an invalid config', async () => {
    const sp = await startSidecarProcess('routes:\n- name: r\n  targets: []\n', { waitReady: false });
    expect(await sp.exited).toBe(2);
    expect(sp.stderr()).toContain('routes[0].targets: needs at least 1 item(s)');
  });

  it('exits 2 when the config file is missing, and on a bad flag', async () => {
    const missing = await startSidecarProcess(undefined, { waitReady: false, configPath: '/nonexistent/config.yaml' });
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toMatch(/cannot read the config file \(ENOENT\)/);
    const flag = await startSidecarProcess(config(['a']), { waitReady: false, args: ['--frobnicate'] });
    expect(await flag.exited).toBe(2);
    expect(flag.stderr()).toContain("unknown argument '--frobnicate'");
  });
});

describe('hot reload', () => {
  it('applies a renamed-in config within 2 s, refuses an invalid one whole, and counts both', async () => {
    const sp = await startSidecarProcess(config(['a']));
    try {
      expect(await modelIds(sp.baseURL)).toEqual(['a']);
      const t0 = Date.now();
      sp.writeConfig(config(['a', 'b']));
      await eventually(async () => (await modelIds(sp.baseURL)).includes('b'), 2000, 20);
      const took = Date.now() - t0;
      expect(took).toBeLessThan(2000);
      expect(await sp.metric('llmroute_config_reloads_total', { result: 'ok' })).toBe(2);

      sp.writeConfig('routes:\n- name: broken\n  targets:\n  - {name: t, provider: nope, model: m}\n');
      await eventually(async () => (await sp.metric('llmroute_config_reloads_total', { result: 'error' })) === 1, 3000);
      expect(await modelIds(sp.baseURL)).toEqual(['a', 'b']);
      const refused = sp.logs.find((l) => l.msg === 'config refused; the last good config stays in force')!;
      expect(String(refused.error)).toContain('routes[0].targets[0].provider: must be one of');
      // the timer re-reads the same bad file every second: it is counted once, not every second
      await new Promise((r) => setTimeout(r, 1500));
      expect(await sp.metric('llmroute_config_reloads_total', { result: 'error' })).toBe(1);
      // and requests keep working on the last good config
      const client = new OpenAI({ baseURL: sp.baseURL, apiKey: 'x', maxRetries: 0 });
      expect((await client.chat.completions.create({ model: 'b', messages: [{ role: 'user', content: 'hi' }] })).choices[0]!.message.content).toBeTruthy();
    } finally {
      await sp.stop();
    }
  });

  it("follows the kubelet's ..data symlink swap", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmroute-projected-'));
    const lay = (stamp: string, text: string): void => {
      mkdirSync(join(dir, stamp));
      writeFileSync(join(dir, stamp, 'config.yaml'), text);
      symlinkSync(stamp, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    lay('..2026_01_01_00_00_00.1', config(['first']));
    symlinkSync('..data/config.yaml', join(dir, 'config.yaml'));
    const sp = await startSidecarProcess(undefined, { dir, configPath: join(dir, 'config.yaml') });
    try {
      expect(await modelIds(sp.baseURL)).toEqual(['first']);
      lay('..2026_01_01_00_00_01.2', config(['second']));
      rmSync(join(dir, '..2026_01_01_00_00_00.1'), { recursive: true });
      await eventually(async () => (await modelIds(sp.baseURL)).join() === 'second', 2000, 20);
    } finally {
      await sp.stop();
    }
  });

  it('keeps circuit state across a reload for targets whose route and name are unchanged', async () => {
    const yaml = (extra: string) =>
      `routes:\n- name: r${extra}\n  retry: {attempts: 0}\n  circuitBreaker: {consecutiveFailures: 1, openFor: 1m}\n  targets:\n  - {name: t, provider: openai-compatible, baseURL: "${fake.url}", model: m}\n  - {name: u, provider: openai-compatible, baseURL: "${fake.url}", model: m, priority: 1}\n`;
    const sp = await startSidecarProcess(yaml(''));
    try {
      fake.script({ kind: 'status', status: 500 });
      const client = new OpenAI({ baseURL: sp.baseURL, apiKey: 'x', maxRetries: 0 });
      await client.chat.completions.create({ model: 'r', messages: [{ role: 'user', content: 'hi' }] });
      expect(await sp.metric('llmroute_circuit_state', { route: 'r', target: 't' })).toBe(2);
      sp.writeConfig(yaml('\n  aliases: [x]'));
      await eventually(async () => (await modelIds(sp.baseURL)).includes('x'), 2000, 20);
      expect(await sp.metric('llmroute_circuit_state', { route: 'r', target: 't' })).toBe(2);
      const { response } = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(response.headers.get('x-llmroute-target')).toBe('u');
    } finally {
      await sp.stop();
    }
  });
});

describe('SIGTERM', () => {
  it('fails /readyz, refuses new work, lets a stream in flight finish, and exits 0', async () => {
    fake.setBehaviour({ kind: 'ok', chunks: 10, chunkDelayMs: 100 });
    const sp = await startSidecarProcess(config(['slow']));
    expect((await fetch(`${sp.adminURL}/readyz`)).status).toBe(200);
    const client = new OpenAI({ baseURL: sp.baseURL, apiKey: 'x', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let firstChunk = (): void => {};
    const streaming = new Promise<void>((r) => (firstChunk = r));
    const reading = (async () => {
      let n = 0;
      for await (const c of stream) {
        if (c.choices[0]?.delta?.content) n++;
        firstChunk();
      }
      return n;
    })();
    await Promise.race([streaming, reading]); // in flight: its first chunk is here
    sp.child.kill('SIGTERM');
    await eventually(async () => (await fetch(`${sp.adminURL}/readyz`)).status === 503, 2000, 20);
    await expect(fetch(`${sp.baseURL}/models`)).rejects.toThrow();
    expect(await reading).toBe(10);
    expect(await sp.exited).toBe(0);
    fake.setBehaviour(undefined);
  });

  // Issue 15, point 11: a sidecar that gets SIGTERM on its own (not through pod deletion: the pod
  // stays Ready, the app keeps calling) refuses new work only while its requests in flight finish,
  // then exits, and the kubelet restarts it (a native sidecar). The bounds are a tenth of the 30 s
  // drain timeout: a drain that waited for it, or for anything but the requests in flight, fails them.
  it('with no request in flight: exits at once, not after the drain timeout', async () => {
    const sp = await startSidecarProcess(config(['idle']));
    // a keep-alive connection left open by an earlier call does not hold the drain
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get(`${sp.baseURL}/models`, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
    const t0 = performance.now();
    sp.child.kill('SIGTERM');
    expect(await sp.exited).toBe(0);
    const exitMs = performance.now() - t0;
    console.log(`SIGTERM, nothing in flight: exited after ${Math.round(exitMs)} ms`);
    expect(exitMs).toBeLessThan(3000);
    agent.destroy();
  });

  it('with one stream in flight: exits right after the stream ends', async () => {
    fake.setBehaviour({ kind: 'ok', chunks: 15, chunkDelayMs: 100 });
    const sp = await startSidecarProcess(config(['slow']));
    const client = new OpenAI({ baseURL: sp.baseURL, apiKey: 'x', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let firstChunk = (): void => {};
    const streaming = new Promise<void>((r) => (firstChunk = r));
    const reading = (async () => {
      let n = 0;
      for await (const c of stream) {
        if (c.choices[0]?.delta?.content) n++;
        firstChunk();
      }
      return { n, endedAt: performance.now() };
    })();
    await Promise.race([streaming, reading]);
    const tTerm = performance.now();
    sp.child.kill('SIGTERM');
    const exitedAt = sp.exited.then((code) => ({ code, at: performance.now() }));
    const { n, endedAt } = await reading;
    const { code, at } = await exitedAt;
    expect(n).toBe(15);
    expect(code).toBe(0);
    // it waited for the stream (exited after its end), and no longer than needed after it
    expect(at).toBeGreaterThanOrEqual(endedAt - 50);
    console.log(`SIGTERM, one stream in flight: stream ended ${Math.round(endedAt - tTerm)} ms after the signal, exit ${Math.round(at - endedAt)} ms after the stream's end`);
    expect(at - endedAt).toBeLessThan(3000);
    fake.setBehaviour(undefined);
  });

  it('an app that keeps calling during the drain does not hold it: refusals are not work in flight', async () => {
    fake.setBehaviour({ kind: 'ok', chunks: 10, chunkDelayMs: 100 });
    const sp = await startSidecarProcess(config(['slow']));
    const client = new OpenAI({ baseURL: sp.baseURL, apiKey: 'x', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let firstChunk = (): void => {};
    const streaming = new Promise<void>((r) => (firstChunk = r));
    const reading = (async () => {
      for await (const _ of stream) firstChunk();
      return performance.now();
    })();
    await Promise.race([streaming, reading]);
    // Eight keep-alive clients calling back to back, as a busy app whose pod stays Ready does.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    for (let i = 0; i < 8; i++) {
      await new Promise<void>((resolve, reject) => http.get(`${sp.baseURL}/models`, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject));
    }
    let exited = false;
    const answers: Record<string, number> = {};
    const hammer = async () => {
      while (!exited) {
        const key = await new Promise<string>((resolve) => {
          http.get(`${sp.baseURL}/models`, { agent }, (res) => res.resume().on('end', () => resolve(String(res.statusCode)))).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        });
        answers[key] = (answers[key] ?? 0) + 1;
      }
    };
    const hammers = Array.from({ length: 8 }, hammer);
    sp.child.kill('SIGTERM');
    const endedAt = await reading;
    const code = await sp.exited;
    const at = performance.now();
    exited = true;
    await Promise.all(hammers);
    agent.destroy();
    expect(code).toBe(0);
    console.log(`SIGTERM with 8 clients calling: exit ${Math.round(at - endedAt)} ms after the stream's end; answers during the drain ${JSON.stringify(answers)}`);
    expect(at - endedAt).toBeLessThan(3000);
    fake.setBehaviour(undefined);
  });
});
