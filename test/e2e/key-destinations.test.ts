// No confused deputy (docs/THREAT-MODEL.md), against a real kube-apiserver,
// with the operator running as the unprivileged user bound to exactly
// config/rbac: it reads only Secrets labelled llmroute.dev/credentials=true,
// never uses its own rendered Secret as a source, and sends a key only to a
// host the cluster admin allowed; the chart's ValidatingAdmissionPolicy
// refuses the rest when it is written.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { ClusterSteps, conditionOf, type TestOperator } from '../../operator/src/testing/e2e-helpers.ts';
import { KubeApiError } from '../../operator/src/errors.ts';
import { secretPath } from '../../operator/src/kube/paths.ts';
import { apply, one, remove, renderChart, type K8sObject } from './chart-helpers.ts';
import { adminKubeConfig, createNamespace, deleteNamespace, uniqueName, waitFor } from './harness/kube.ts';
import { startScopedOperator, type ScopedOperator } from './harness/scoped-operator.ts';

jest.setTimeout(90_000);

const KEY_HIDDEN = 'sk-e2e-UNLABELLED-0123456789abcdef';
const KEY = 'sk-e2e-DEPUTY-fedcba9876543210';
const keyed = (name: string, provider: string, baseURL: string | undefined, secret = 'k') => ({
  name,
  provider,
  model: 'm',
  ...(baseURL !== undefined ? { baseURL } : {}),
  ...(provider === 'azure-openai' ? { apiVersion: '2024-10-21' } : {}),
  apiKeySecretRef: { name: secret, key: 'apiKey' },
});
const routeNames = (cfg: { config: { routes: Array<{ name: string }> } } | undefined) => cfg?.config.routes.map((r) => r.name) ?? [];
/** The API server's refusal of a write, as its message; undefined when the write went through. */
async function refusal(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof KubeApiError) return err.message;
    throw err;
  }
}

describe('no confused deputy', () => {
  const admin = adminKubeConfig();
  const steps = new ClusterSteps(admin);
  let scoped: ScopedOperator;
  let ns: string;
  let op: TestOperator;

  beforeAll(async () => {
    scoped = await startScopedOperator('deputy');
    ({ ns, op } = scoped);
  });

  afterAll(async () => {
    await scoped?.stop();
    steps.close();
  });

  it('never reads an unlabelled Secret: the route says SecretNotFound with the labelling hint; labelled, it resolves; unlabelled again, its key leaves', async () => {
    await steps.putSecret(ns, 'hidden', { apiKey: KEY_HIDDEN }, { labelled: false });
    await steps.applyRoute(ns, 'chat', { targets: [keyed('a', 'openai', undefined, 'hidden')] });
    const waiting = await waitFor(async () => {
      const r = await steps.getRoute(ns, 'chat');
      return conditionOf(r, 'ResolvedRefs')?.status === 'False' ? r : undefined;
    });
    expect(conditionOf(waiting, 'ResolvedRefs')).toMatchObject({
      reason: 'SecretNotFound',
      message:
        'target "a": Secret "hidden" not found among the Secrets labelled llmroute.dev/credentials=true ' +
        '(the operator reads no other Secret, so it cannot tell a missing Secret from an unlabelled one); ' +
        `if it exists: kubectl -n ${ns} label secret hidden llmroute.dev/credentials=true`,
    });
    // The API server never sent it: not in the operator's cache, not rendered, not logged.
    expect(op.controller.secrets.get(ns, 'hidden')).toBeUndefined();
    expect(Object.values((await steps.renderedCredentials(ns))?.values ?? {})).not.toContain(KEY_HIDDEN);
    expect(op.logs.join('\n')).not.toContain(KEY_HIDDEN);

    await steps.labelSecret(ns, 'hidden', true);
    await waitFor(async () => conditionOf(await steps.getRoute(ns, 'chat'), 'Ready')?.status === 'True', { description: 'chat Ready once the Secret is labelled' });
    expect(conditionOf(await steps.getRoute(ns, 'chat'), 'ResolvedRefs')).toMatchObject({ status: 'True', reason: 'Resolved' });
    expect((await steps.renderedCredentials(ns))!.values[`${ns}.chat_a`]).toBe(KEY_HIDDEN);

    // Taking the label off is, to the operator, the Secret going away.
    await steps.labelSecret(ns, 'hidden', false);
    await waitFor(async () => conditionOf(await steps.getRoute(ns, 'chat'), 'ResolvedRefs')?.reason === 'SecretNotFound', { description: 'SecretNotFound after unlabelling' });
    await waitFor(async () => !Object.values((await steps.renderedCredentials(ns))?.values ?? {}).includes(KEY_HIDDEN), { description: 'the key to leave the rendered Secret' });
    expect(op.controller.secrets.get(ns, 'hidden')).toBeUndefined();
    await steps.labelSecret(ns, 'hidden', true);
    await waitFor(async () => conditionOf(await steps.getRoute(ns, 'chat'), 'Ready')?.status === 'True', { description: 'chat Ready again' });
  });

  it('the rendered Secret is no source: the CRD refuses a route naming it, and labelled by someone it still does not enter the source cache', async () => {
    const message = await refusal(steps.applyRoute(ns, 'launder', { targets: [{ ...keyed('x', 'openai', undefined, 'llmroute-credentials'), apiKeySecretRef: { name: 'llmroute-credentials', key: `${ns}.chat_a` } }] }));
    expect(message).toMatch(/apiKeySecretRef may not name llmroute-credentials: the operator renders it, it is not a source/);
    await steps.labelSecret(ns, 'llmroute-credentials', true);
    await new Promise((r) => setTimeout(r, 500));
    expect(op.controller.secrets.get(ns, 'llmroute-credentials')).toBeUndefined();
    expect(op.controller.rendered.get(ns, 'llmroute-credentials')).toBeDefined();
    await steps.labelSecret(ns, 'llmroute-credentials', false);
  });

  it('repairs the rendered Secret when someone takes its managed-by label off (its watch sees that as a deletion)', async () => {
    await steps.api.request('PATCH', secretPath(ns, 'llmroute-credentials'), {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { 'app.kubernetes.io/managed-by': null } } },
    });
    const creds = await waitFor(async () => {
      const c = await steps.renderedCredentials(ns);
      return c?.labels['app.kubernetes.io/managed-by'] === 'llmroute' ? c : undefined;
    }, { description: 'the label to come back' });
    expect(creds.values[`${ns}.chat_a`]).toBe(KEY_HIDDEN);
  });

  it('without the admission policy, the operator refuses a route whose key would go to a host no admin allowed: Accepted=False/HostNotAllowed, nothing rendered', async () => {
    await steps.putSecret(ns, 'k', { apiKey: KEY });
    await steps.applyRoute(ns, 'exfil', { targets: [keyed('x', 'openai-compatible', 'https://collector.evil.example/v1')] });
    await steps.applyRoute(ns, 'trick', { targets: [keyed('y', 'openai', 'https://api.openai.com@collector.evil.example/v1')] });
    const exfil = await waitFor(async () => {
      const r = await steps.getRoute(ns, 'exfil');
      return conditionOf(r, 'Accepted')?.status === 'False' ? r : undefined;
    });
    expect(conditionOf(exfil, 'Accepted')).toMatchObject({
      reason: 'HostNotAllowed',
      message:
        'target "x": host "collector.evil.example" is not allowed for openai-compatible targets with an apiKeySecretRef (the key would be sent there); ' +
        'a cluster admin allows it with the chart value keyDestinations.allowedHosts.openai-compatible (operator flag --allowed-base-url-hosts=openai-compatible=collector.evil.example)',
    });
    expect(conditionOf(exfil, 'Ready')).toMatchObject({ status: 'False', reason: 'NotRendered' });
    const trick = await waitFor(async () => {
      const r = await steps.getRoute(ns, 'trick');
      return conditionOf(r, 'Accepted')?.status === 'False' ? r : undefined;
    });
    expect(conditionOf(trick, 'Accepted')).toMatchObject({ reason: 'HostNotAllowed', message: expect.stringContaining('userinfo') });
    const cm = await steps.renderedConfigMap(ns);
    expect(routeNames(cm)).toEqual(['chat']);
    expect(cm!.text).not.toContain('evil.example');
    expect(Object.keys((await steps.renderedCredentials(ns))!.values)).toEqual([`${ns}.chat_a`]);
    await waitFor(async () => (await steps.routeEvents(ns, 'exfil')).some((e) => e.type === 'Warning' && e.reason === 'HostNotAllowed'), { description: 'a HostNotAllowed event' });
  });

  describe('the chart’s ValidatingAdmissionPolicy', () => {
    let policyNs: string;
    let objs: K8sObject[] = [];

    /** The chart's policy and binding, bound to policyNs only (other test files share this API server). */
    const install = async (values: object) => {
      const rendered = renderChart('llmroute', 'llmroute-system', values);
      const policy = one(rendered, 'ValidatingAdmissionPolicy');
      const binding = one(rendered, 'ValidatingAdmissionPolicyBinding');
      binding.spec.matchResources = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': policyNs } } };
      objs = [policy, binding];
      for (const o of objs) await apply(admin, o);
    };
    const put = (name: string, targets: unknown[]) => refusal(steps.applyRoute(policyNs, name, { targets }));

    beforeAll(async () => {
      policyNs = await createNamespace(uniqueName('deputy-vap'));
      await install({});
      // The policy takes effect once the API server's policy cache has it.
      await waitFor(async () => (await put('probe', [keyed('x', 'openai-compatible', 'https://collector.evil.example/v1')])) !== undefined, {
        description: 'the policy to refuse',
      });
    });

    afterAll(async () => {
      for (const o of objs.reverse()) await remove(admin, o);
      await deleteNamespace(policyNs);
    });

    it('refuses a target whose key would go to a host not allowed for its provider, naming the host and the value to change', async () => {
      expect(await put('exfil', [keyed('ok', 'openai', undefined), keyed('x', 'openai-compatible', 'https://collector.evil.example/v1')])).toMatch(
        /ValidatingAdmissionPolicy '.*-key-destinations' with binding '.*-key-destinations' denied request: target "x": host "collector\.evil\.example" is not allowed for openai-compatible targets with an apiKeySecretRef \(the key would be sent there\); a cluster admin allows it with the chart value keyDestinations\.allowedHosts\.openai-compatible/,
      );
      for (const [name, t] of [
        ['other-host', keyed('x', 'openai', 'https://api.openai.com.evil.example/v1')],
        ['wrong-provider', keyed('x', 'anthropic', 'https://api.openai.com/v1')],
        ['domain-itself', keyed('x', 'azure-openai', 'https://openai.azure.com')],
        ['ip', keyed('x', 'openai-compatible', 'http://10.0.0.7:8000/v1')],
        ['vertex-elsewhere', { ...keyed('x', 'vertex', 'https://collector.evil.example'), project: 'my-project-1', location: 'us-east5' }],
        ['bedrock-elsewhere', { ...keyed('x', 'bedrock', undefined), region: 'us-east-1', endpoint: 'https://collector.evil.example' }],
      ] as const) {
        expect([name, await put(name, [t])]).toEqual([name, expect.stringMatching(/target "x": host ".*" is not allowed for/)]);
      }
    });

    it('refuses URLs two parsers could read differently: userinfo, a percent-encoded host, a backslash', async () => {
      for (const url of ['https://api.openai.com@collector.evil.example/v1', 'https://api.openai.com%2ecollector.evil.example/v1', 'https://collector.evil.example\\@api.openai.com/v1']) {
        expect([url, await put('tricky', [keyed('x', 'openai', url)])]).toEqual([url, expect.stringMatching(/denied request: target "x": (baseURL must name its host plainly|host)/)]);
      }
    });

    it('admits the public endpoints (any case, a trailing dot, another port) and a key-less target to any host', async () => {
      for (const [name, targets] of [
        ['defaults', [keyed('o', 'openai', undefined), keyed('a', 'anthropic', undefined)]],
        ['explicit', [keyed('o', 'openai', 'https://API.OpenAI.com./v1'), keyed('a', 'anthropic', 'https://api.anthropic.com:443')]],
        ['azure', [keyed('z', 'azure-openai', 'https://my-res.openai.azure.com'), keyed('c', 'azure-openai', 'https://my-res.cognitiveservices.azure.com/')]],
        ['local', [{ name: 'l', provider: 'openai-compatible', model: 'llama', baseURL: 'http://10.0.0.7:11434/v1' }]],
        ['gemini', [keyed('g', 'gemini', undefined)]],
        ['bedrock', [{ ...keyed('b', 'bedrock', undefined), region: 'us-east-1' }, { ...keyed('v', 'bedrock', undefined), region: 'eu-west-1', endpoint: 'https://vpce-0a1b.bedrock-runtime.eu-west-1.vpce.amazonaws.com' }]],
        ['vertex', [{ ...keyed('r', 'vertex', undefined), project: 'my-project-1', location: 'us-east5' }, { ...keyed('g', 'vertex', undefined), project: 'my-project-1', location: 'global' }]],
      ] as const) {
        expect([name, await put(name, [...targets])]).toEqual([name, undefined]);
      }
    });

    it('follows the chart’s keyDestinations: a listed host:port is admitted, another port is not', async () => {
      await install({ keyDestinations: { allowedHosts: { 'openai-compatible': ['vllm.ml.svc:8000', '*.groq.example'] } } });
      await waitFor(async () => (await put('vllm', [keyed('x', 'openai-compatible', 'http://vllm.ml.svc:8000/v1')])) === undefined, { description: 'the new list to apply' });
      expect(await put('groq', [keyed('x', 'openai-compatible', 'https://api.groq.example/openai/v1')])).toBeUndefined();
      expect(await put('vllm-other-port', [keyed('x', 'openai-compatible', 'http://vllm.ml.svc:8001/v1')])).toMatch(/host "vllm\.ml\.svc" is not allowed/);
      // The other providers keep their defaults.
      expect(await put('openai-still', [keyed('o', 'openai', undefined)])).toBeUndefined();
    });
  });
});
