/**
 * The README's manifests (examples/k8s) are real: the API server accepts
 * them as written, and fills the LLMRoute's defaults.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { adminKubeConfig, applyYaml, createNamespace } from './harness/kube.ts';

const read = (name: string) => readFileSync(fileURLToPath(new URL(`../../examples/k8s/${name}`, import.meta.url)), 'utf8');

describe('examples/k8s', () => {
  it('applies as written, and the server fills the route defaults', async () => {
    const admin = adminKubeConfig();
    await createNamespace('shop');
    await applyYaml(admin, read('secrets.yaml'), 'readme');
    await applyYaml(admin, read('llmroute.yaml'), 'readme');
    const route = (await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'llmroute.dev',
      version: 'v1alpha1',
      namespace: 'shop',
      plural: 'llmroutes',
      name: 'chat',
    })) as { spec: { targets: Array<{ name: string; weight: number; priority: number }>; retry: { attempts: number } } };
    expect(route.spec.targets.map((t) => `${t.name}:${t.priority}:${t.weight}`)).toEqual(['openai:0:80', 'openai-4o:0:20', 'claude:1:1']);
    expect(route.spec.retry.attempts).toBe(1);
    await applyYaml(admin, read('app.yaml'), 'readme');
  });
});
