// The whole loop without a kubelet: an LLMRoute is rendered by the operator
// (in this process, as the unprivileged test user) into ConfigMap
// llmroute-config and Secret llmroute-credentials; this test plays the
// kubelet and lays both out in a folder with the kubelet's atomic-writer
// layout (..<timestamp>/, ..data symlink, top-level links) whenever they
// change; a real sidecar process serves from that folder against fake
// OpenAI-compatible providers. Changing the LLMRoute (a new alias, a new
// target with a new key) and rotating a key reach the running sidecar.
//
// Printed: how long an LLMRoute change takes to reach the ConfigMap, and to
// reach the sidecar (through this test's 50 ms "kubelet" poll; a real
// kubelet takes up to its sync period plus its cache TTL, about a minute).

import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { KubeClient } from '../../operator/src/kube/kube-client.ts';
import { configMapPath, secretPath } from '../../operator/src/kube/paths.ts';
import { KubeApiError } from '../../operator/src/errors.ts';
import { writeAtomically } from '../../operator/src/testing/atomic-writer.ts';
import { ClusterSteps, startTestOperator, type TestOperator } from '../../operator/src/testing/e2e-helpers.ts';
import { keyDestinations } from '../../operator/src/render/key-destinations.ts';
import { spawnNodeScript, type Child } from '../../operator/src/testing/processes.ts';
import { grantOperatorRbac, type OperatorGrant } from '../../operator/src/testing/rbac.ts';
import { adminKubeConfig, createNamespace, deleteNamespace, testUserName, uniqueName, userKubeConfig, waitFor } from './harness/kube.ts';

jest.setTimeout(90_000);

const KEY_1 = 'sk-loop-ONE-0123456789';
const KEY_1B = 'sk-loop-ONE-rotated-5555';
const KEY_2 = 'sk-loop-TWO-abcdefabcdef';

/**
 * The kubelet's part: polls the ConfigMap and the Secret (as the kubelet's
 * cache would), and on any change writes both into `dir` atomically.
 */
class FakeKubelet {
  readonly dir = mkdtempSync(join(tmpdir(), 'llmroute-volume-'));
  readonly api: KubeClient;
  readonly ns: string;
  #seen = '';
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  /** performance.now() of each write, with the config text written. */
  readonly writes: Array<{ at: number; config: string }> = [];

  constructor(kc: ReturnType<typeof adminKubeConfig>, ns: string) {
    this.api = new KubeClient(kc);
    this.ns = ns;
  }

  async sync(): Promise<boolean> {
    let cm: any;
    let secret: any;
    try {
      cm = await this.api.request('GET', configMapPath(this.ns, 'llmroute-config'));
      secret = await this.api.request('GET', secretPath(this.ns, 'llmroute-credentials'));
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return false;
      throw err;
    }
    const version = `${cm.metadata.resourceVersion}/${secret.metadata.resourceVersion}`;
    if (version === this.#seen) return false;
    this.#seen = version;
    const files: Record<string, string | Buffer> = { 'config.yaml': cm.data['config.yaml'] };
    for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, string>)) files[k] = Buffer.from(v, 'base64');
    writeAtomically(this.dir, files);
    this.writes.push({ at: performance.now(), config: cm.data['config.yaml'] });
    return true;
  }

  start(intervalMs = 50): void {
    this.#timer = setInterval(() => {
      if (this.#busy) return;
      this.#busy = true;
      this.sync()
        .catch(() => undefined)
        .finally(() => (this.#busy = false));
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.api.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('full loop: LLMRoute → operator → ConfigMap/Secret → (kubelet layout) → sidecar', () => {
  const admin = adminKubeConfig();
  const steps = new ClusterSteps(admin);
  let ns: string;
  let leaseNs: string;
  let grant: OperatorGrant;
  let op: TestOperator;
  let one: FakeProvider;
  let two: FakeProvider;
  let kubelet: FakeKubelet;
  let sidecar: Child;
  let api: string;
  const timings: Record<string, number> = {};

  const models = async (): Promise<string[]> => {
    const res = await fetch(`${api}/v1/models`);
    const body = (await res.json()) as { data: Array<{ id: string }> };
    return body.data.map((m) => m.id).sort();
  };
  const chat = async (model: string) => {
    const res = await fetch(`${api}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer client-key-is-ignored' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    return { status: res.status, target: res.headers.get('x-llmroute-target'), route: res.headers.get('x-llmroute-route') };
  };

  beforeAll(async () => {
    ns = await createNamespace(uniqueName('loop'));
    leaseNs = uniqueName('loop-lease');
    grant = await grantOperatorRbac(admin, userKubeConfig(), { user: testUserName(), suffix: uniqueName('fl'), leaseNamespace: leaseNs, scope: [ns] });
    // The fake providers listen on loopback: allowed as a key destination for openai targets, as an admin would allow a proxy.
    op = await startTestOperator(userKubeConfig(), { namespaces: [ns], leaseNamespace: leaseNs, keyDestinations: keyDestinations({ openai: ['127.0.0.1'] }) });
    one = await startFakeProvider({ flavor: 'openai', name: 'one' });
    two = await startFakeProvider({ flavor: 'openai', name: 'two' });
    kubelet = new FakeKubelet(admin, ns);
  });

  afterAll(async () => {
    await sidecar?.stop('SIGTERM');
    kubelet?.stop();
    await op?.stop();
    await one?.close();
    await two?.close();
    await grant?.revoke();
    steps.close();
    await deleteNamespace(ns);
    await deleteNamespace(leaseNs);
    // eslint-disable-next-line no-console
    console.log(`full loop timings (ms): ${JSON.stringify(timings)}`);
  });

  it('serves the rendered route from a real sidecar, and follows LLMRoute changes and key rotation', async () => {
    await steps.putSecret(ns, 'provider-one', { apiKey: KEY_1 });
    await steps.putSecret(ns, 'provider-two', { token: KEY_2 });
    await steps.applyRoute(ns, 'chat', {
      aliases: ['gpt-4o'],
      targets: [{ name: 'one', provider: 'openai', model: 'model-one', baseURL: one.url, apiKeySecretRef: { name: 'provider-one', key: 'apiKey' } }],
    });
    await waitFor(() => kubelet.sync(), { description: 'the first rendered ConfigMap and Secret' });
    // The kubelet's layout.
    expect(readlinkSync(join(kubelet.dir, '..data'))).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./);
    expect(readlinkSync(join(kubelet.dir, 'config.yaml'))).toBe('..data/config.yaml');
    expect(readFileSync(join(kubelet.dir, `${ns}.chat_one`), 'utf8')).toBe(KEY_1);
    kubelet.start();

    sidecar = spawnNodeScript('sidecar/src/cli.ts', ['--config', join(kubelet.dir, 'config.yaml'), '--port', '0', '--admin-port', '0', '--host', '127.0.0.1']);
    const listening = await sidecar.waitForLine((_l, j) => j?.msg === 'llmroute sidecar listening');
    api = `http://${listening.api}`;
    expect(await models()).toEqual(['chat', 'gpt-4o']);
    expect(await chat('gpt-4o')).toEqual({ status: 200, target: 'one', route: 'chat' });
    // The sidecar used the key from the rendered Secret, not the client's.
    expect(one.requests.at(-1)!.headers.authorization).toBe(`Bearer ${KEY_1}`);

    // 1. A new alias.
    let t0 = performance.now();
    await steps.applyRoute(ns, 'chat', {
      aliases: ['gpt-4o', 'smart'],
      targets: [{ name: 'one', provider: 'openai', model: 'model-one', baseURL: one.url, apiKeySecretRef: { name: 'provider-one', key: 'apiKey' } }],
    });
    await waitFor(async () => (await steps.renderedConfigMap(ns))?.config.routes[0]?.aliases?.includes('smart'), { intervalMs: 10, description: 'the alias in the ConfigMap' });
    timings.aliasToConfigMap = Math.round(performance.now() - t0);
    await waitFor(async () => (await models()).includes('smart'), { intervalMs: 10, description: 'the alias at the sidecar' });
    timings.aliasToSidecar = Math.round(performance.now() - t0);
    expect(await chat('smart')).toMatchObject({ status: 200, route: 'chat', target: 'one' });

    // 2. A new target, first in line, with a key from another Secret.
    t0 = performance.now();
    await steps.applyRoute(ns, 'chat', {
      aliases: ['gpt-4o', 'smart'],
      targets: [
        { name: 'two', provider: 'openai', model: 'model-two', baseURL: two.url, apiKeySecretRef: { name: 'provider-two', key: 'token' } },
        { name: 'one', provider: 'openai', model: 'model-one', baseURL: one.url, priority: 1, apiKeySecretRef: { name: 'provider-one', key: 'apiKey' } },
      ],
    });
    await waitFor(async () => (await steps.renderedConfigMap(ns))?.config.routes[0]?.targets.length === 2, { intervalMs: 10, description: 'the new target in the ConfigMap' });
    timings.targetToConfigMap = Math.round(performance.now() - t0);
    await waitFor(async () => (await chat('chat')).target === 'two', { intervalMs: 10, description: 'the sidecar to use the new target' });
    timings.targetToSidecar = Math.round(performance.now() - t0);
    expect(two.requests.at(-1)!.headers.authorization).toBe(`Bearer ${KEY_2}`);

    // 3. Key rotation, no LLMRoute change: the next request to `one` carries the new key.
    t0 = performance.now();
    await steps.putSecret(ns, 'provider-one', { apiKey: KEY_1B });
    await waitFor(async () => (await steps.renderedCredentials(ns))?.values[`${ns}.chat_one`] === KEY_1B, { intervalMs: 10, description: 'the rotated key in the Secret' });
    timings.rotationToSecret = Math.round(performance.now() - t0);
    await waitFor(() => readFileSync(join(kubelet.dir, `${ns}.chat_one`), 'utf8') === KEY_1B, { intervalMs: 10, description: 'the rotated key in the volume' });
    // Make `one` serve: `two` fails over to it.
    two.setBehaviour({ kind: 'status', status: 503 });
    await waitFor(
      async () => {
        const r = await chat('chat');
        return r.target === 'one' && one.requests.at(-1)!.headers.authorization === `Bearer ${KEY_1B}`;
      },
      { intervalMs: 50, description: 'the sidecar to send the rotated key' },
    );
    timings.rotationToSidecar = Math.round(performance.now() - t0);
    two.setBehaviour(undefined);

    // The sidecar never refused a config along the way (keys always came with their config).
    expect(sidecar.lines.filter((l) => l.includes('config refused'))).toEqual([]);
    expect(sidecar.lines.filter((l) => l.includes('"config reloaded"')).length).toBeGreaterThanOrEqual(3);
    for (const key of [KEY_1, KEY_1B, KEY_2]) {
      expect(sidecar.lines.join('\n')).not.toContain(key);
      expect(op.logs.join('\n')).not.toContain(key);
    }
  });
});
