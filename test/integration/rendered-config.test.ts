// The contract between the operator and the sidecar: what renderNamespace writes, laid out like the
// projected volume, loads with the sidecar's own parser (the one test that may import both
// components; each workspace's own tests import only itself, api/ and common/).
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { CONFIG_FORMAT_VERSION } from '../../api/v1alpha1/enums.ts';
import type { ConfigFile } from '../../api/v1alpha1/types.ts';
import { llmRoute, openaiTarget, secretsOf } from '../../operator/src/testing/fixtures.ts';
import { DEFAULT_KEY_DESTINATIONS } from '../../api/v1alpha1/enums.ts';
import { keyDestinations } from '../../operator/src/render/key-destinations.ts';
import { renderNamespace } from '../../operator/src/render/render-namespace.ts';
import type { NamespaceRender } from '../../operator/src/render/types.ts';
import { parseConfig } from '../../sidecar/src/config/load-config.ts';

const LOOPBACK_ALLOWED = keyDestinations({
  openai: [...DEFAULT_KEY_DESTINATIONS.openai, '127.0.0.1'],
  anthropic: [...DEFAULT_KEY_DESTINATIONS.anthropic],
  'azure-openai': [...DEFAULT_KEY_DESTINATIONS['azure-openai'], '127.0.0.1'],
  'openai-compatible': ['127.0.0.1'],
});
const NOW = new Date('2025-06-01T12:00:00.000Z');
const LATER = new Date('2025-06-01T13:00:00.000Z');
const OPENAI_KEY = 'sk-test-OPENAI-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-test-ANTHROPIC-fedcba9876543210';

/** Lays the render out like the projected volume and loads it with the sidecar's own parser. */
function loadAsSidecar(r: NamespaceRender) {
  const dir = mkdtempSync(join(tmpdir(), 'llmroute-render-'));
  try {
    writeFileSync(join(dir, 'config.yaml'), r.configYaml);
    for (const [k, v] of Object.entries(r.credentials)) writeFileSync(join(dir, k), Buffer.from(v, 'base64'));
    return parseConfig(r.configYaml, dir, {}, join(dir, 'config.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a rendered namespace, loaded by the sidecar', () => {
  it('serves the route by name and alias with the keys from the credentials Secret', () => {
    const spec = {
      aliases: ['gpt-4o'],
      targets: [
        openaiTarget('openai', 'openai-key', 'apiKey', { priority: 0, weight: 80 }),
        { name: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5', priority: 1, apiKeySecretRef: { name: 'anthropic-key', key: 'apiKey' } },
      ],
    };
    const secrets = secretsOf({ 'openai-key': { apiKey: OPENAI_KEY }, 'anthropic-key': { apiKey: ANTHROPIC_KEY } });
    const r = renderNamespace([llmRoute('chat', spec)], secrets, { now: NOW });
    const loaded = loadAsSidecar(r);
    const route = loaded.config.models.get('gpt-4o')!;
    expect(route.name).toBe('chat');
    expect(route.targets.map((t) => [t.name, t.apiKey?.reveal()])).toEqual([
      ['openai', OPENAI_KEY],
      ['claude', ANTHROPIC_KEY],
    ]);
  });

  it('carries the config format version this sidecar reads', () => {
    const r = renderNamespace([llmRoute('chat', { targets: [openaiTarget('openai', 'k', 'apiKey')] })], secretsOf({ k: { apiKey: 'x' } }), { now: NOW });
    expect((yaml.load(r.configYaml) as ConfigFile).version).toBe(CONFIG_FORMAT_VERSION);
    expect(() => loadAsSidecar(r)).not.toThrow();
  });

  it('renders any valid spec into a config the sidecar accepts (property)', () => {
    const name = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    const duration = fc.tuple(fc.integer({ min: 1, max: 900 }), fc.constantFrom('ms', 's', 'm')).map(([n, u]) => `${n}${u}`);
    const target = fc.record(
      {
        name: fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?$/),
        provider: fc.constantFrom('openai', 'azure-openai', 'anthropic', 'openai-compatible'),
        model: fc.string({ minLength: 1, maxLength: 20 }),
        priority: fc.integer({ min: 0, max: 1000 }),
        weight: fc.integer({ min: 0, max: 10000 }),
        hasKey: fc.boolean(),
      },
      { requiredKeys: ['name', 'provider', 'model', 'hasKey'] },
    );
    const spec = fc.record(
      {
        aliases: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 4 }),
        targets: fc.uniqueArray(target, { minLength: 1, maxLength: 5, selector: (t) => t.name }),
        retry: fc.record({ attempts: fc.integer({ min: 0, max: 10 }), retryAfterCap: duration }, { requiredKeys: [] }),
        timeouts: fc.record({ connect: duration, firstByte: duration, idle: duration, total: duration }, { requiredKeys: [] }),
        fallbackOn: fc.uniqueArray(fc.constantFrom('rate-limit', 'server-error', 'timeout', 'connection-error', 'auth', 'context-window'), { maxLength: 6 }),
      },
      { requiredKeys: ['targets'] },
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, spec), { minLength: 1, maxLength: 4, selector: ([n]) => n }), (entries) => {
        const routes = entries.map(([n, s]) =>
          llmRoute(n, {
            ...s,
            targets: s.targets.map(({ hasKey, ...t }) => ({
              ...t,
              ...(t.provider === 'azure-openai' || t.provider === 'openai-compatible' ? { baseURL: 'http://127.0.0.1:9/v1' } : {}),
              ...(hasKey || t.provider !== 'openai-compatible' ? { apiKeySecretRef: { name: 'keys', key: 'k' } } : {}),
            })),
          }),
        );
        // The fake base URL (loopback) is allowed as a key destination for every provider: this property is about the file format.
        const r = renderNamespace(routes, secretsOf({ keys: { k: 'secret-value' } }), { now: NOW, keyDestinations: LOOPBACK_ALLOWED });
        const loaded = loadAsSidecar(r);
        // Every route is either rendered or refused for a name conflict.
        for (const route of routes) {
          const accepted = r.statuses.get(route.metadata.name)!.conditions[0]!;
          expect(accepted.reason === 'Accepted' ? r.rendered.includes(route.metadata.name) : accepted.reason === 'AliasConflict').toBe(true);
        }
        expect(loaded.config.routes.length).toBe(r.rendered.length);
        // Idempotent: rendering again gives the same bytes.
        expect(renderNamespace(routes, secretsOf({ keys: { k: 'secret-value' } }), { now: LATER, keyDestinations: LOOPBACK_ALLOWED }).configYaml).toBe(r.configYaml);
        const back = yaml.load(r.configYaml, { schema: yaml.CORE_SCHEMA }) as ConfigFile;
        for (const cr of back.routes) {
          const src = routes.find((x) => x.metadata.name === cr.name)!;
          expect(cr.targets.map((t) => t.model)).toEqual(src.spec.targets.map((t) => t.model));
          expect(cr.aliases).toEqual(src.spec.aliases ?? []);
        }
      }),
      { numRuns: 150 },
    );
  });
});
