import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { loadConfig, parseConfig } from './load-config.ts';

const minimal = `
routes:
- name: chat
  targets:
  - {name: openai, provider: openai, model: gpt-4o-mini, apiKey: {value: sk-test-123}}
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, '/nowhere', env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills every default of SPEC section 3', () => {
    const { config } = parseConfig(minimal, '/x', {});
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(config.admin).toEqual({ host: '0.0.0.0', port: 4001 });
    const r = config.routes[0]!;
    expect(r.retry).toEqual({ attempts: 1, backoffInitialMs: 200, backoffMaxMs: 2000, retryAfterCapMs: 10_000 });
    expect([...r.fallbackOn]).toEqual(['rate-limit', 'server-error', 'timeout', 'connection-error']);
    // No default cuts a healthy generation: 10 minutes for the answer and the whole request (issue 10).
    expect(r.timeouts).toEqual({ connectMs: 2000, firstByteMs: 15_000, firstContentMs: 600_000, idleMs: 30_000, totalMs: 600_000 });
    expect(r.maxRequestBytes).toBe(32 * 1024 * 1024);
    expect(r.breaker).toEqual({ consecutiveFailures: 5, openForMs: 30_000 });
    // No commit window: a stream commits at its first content chunk.
    expect(r.commit).toBeUndefined();
    const t = r.targets[0]!;
    expect(t).toMatchObject({ key: 'chat/openai', priority: 0, weight: 1, baseURL: 'https://api.openai.com/v1', params: undefined, maxTokens: undefined });
    expect(t.apiKey?.reveal()).toBe('sk-test-123');
  });

  it('reads a commit window in milliseconds, leaving unset bounds unset', () => {
    const withCommit = (c: string) => parseConfig(minimal.replace('- name: chat', `- name: chat\n  commit: ${c}`), '/x', {}).config.routes[0]!.commit;
    expect(withCommit('{afterTokens: 40, afterMs: 1.5s, minTokensPerSecond: 8}')).toEqual({ afterTokens: 40, afterMs: 1500, minTokensPerSecond: 8 });
    expect(withCommit('{afterMs: 2s}')).toEqual({ afterTokens: undefined, afterMs: 2000, minTokensPerSecond: undefined });
    expect(problems(minimal.replace('- name: chat', '- name: chat\n  commit: {minTokensPerSecond: 8}'))).toEqual(['routes[0].commit: commit needs afterTokens or afterMs: the window ends at whichever comes first']);
  });

  it('maps the route name and every alias to the route', () => {
    const { config } = parseConfig(minimal.replace('- name: chat', '- name: chat\n  aliases: [gpt-4o, fast]'), '/x', {});
    expect([...config.models.keys()]).toEqual(['chat', 'gpt-4o', 'fast']);
  });

  it('sorts targets by priority, keeping file order within one', () => {
    const { config } = parseConfig(
      `routes:\n- name: r\n  targets:\n  - {name: c, provider: openai, model: m, priority: 2}\n  - {name: a, provider: openai, model: m}\n  - {name: b, provider: openai, model: m}\n`,
      '/x',
      {},
    );
    expect(config.routes[0]!.targets.map((t) => t.name)).toEqual(['a', 'b', 'c']);
  });

  it('names each invalid field by its path', () => {
    expect(problems('routes: []\nlisten: {port: 99999}')).toContain('listen.port: must be <= 65535');
    expect(problems('routes:\n- name: r\n  targets: []')).toContain('routes[0].targets: needs at least 1 item(s)');
    expect(problems('routes:\n- name: r\n  targets:\n  - {name: a, provider: openai, model: m, weight: -1}')).toContain('routes[0].targets[0].weight: must be >= 0');
    expect(problems('routes:\n- name: r\n  targets:\n  - {name: a, provider: nope, model: m}')[0]).toMatch(/^routes\[0\]\.targets\[0\]\.provider: must be one of/);
    expect(problems('routes:\n- name: r\n  targets:\n  - {name: a, provider: openai-compatible, model: m}')).toContain(
      'routes[0].targets[0]: baseURL is required for openai-compatible and azure-openai targets',
    );
    expect(problems('routes:\n- name: r\n  targets:\n  - {name: a, provider: openai, model: m}\n  - {name: a, provider: openai, model: m}')).toContain(
      'routes[0]: target names must be unique within a route',
    );
    expect(problems('routes:\n- name: r\n  timeouts: {total: soon}\n  targets:\n  - {name: a, provider: openai, model: m}')[0]).toMatch(/^routes\[0\]\.timeouts\.total: "soon" does not match/);
    expect(problems('routes:\n- name: r\n  retry: {backoff: {initial: 5s, max: 1s}}\n  targets:\n  - {name: a, provider: openai, model: m}')).toContain(
      'routes[0].retry.backoff: backoff.initial must not be longer than backoff.max',
    );
    expect(problems('routes:\n- name: r\n  targets:\n  - {name: a, provider: openai, model: m, apiKey: {}}')).toContain(
      'routes[0].targets[0].apiKey: set exactly one of file, env, value (found none)',
    );
    expect(problems('routes:\n- name: r\n  colour: blue\n  targets:\n  - {name: a, provider: openai, model: m}')[0]).toMatch(/^routes\[0\]\.colour: unknown field/);
  });

  it('refuses a model name used by two routes', () => {
    expect(
      problems('routes:\n- name: a\n  aliases: [x]\n  targets:\n  - {name: t, provider: openai, model: m}\n- name: b\n  aliases: [x]\n  targets:\n  - {name: t, provider: openai, model: m}'),
    ).toEqual(["routes[1]: model name 'x' is already used by route 'a'"]);
  });

  it('reads format version 1 and a file without a version, and refuses a newer format with what to do', () => {
    expect(parseConfig(`version: 1\n${minimal}`, '/nowhere', {}).config.routes).toHaveLength(1);
    expect(parseConfig(minimal, '/nowhere', {}).config.routes).toHaveLength(1);
    // A newer format is refused before the schema, so a field this sidecar does not know is not what it reports.
    expect(problems(`version: 2\nhedge: {after: 2s}\n${minimal}`)).toEqual([
      "config format version 2 is newer than this sidecar reads (1): it was written by a newer llmroute-operator; upgrade the sidecar image to the operator's version",
    ]);
    expect(problems(`version: 0\n${minimal}`)).toEqual(['version: must be >= 1']);
    expect(problems(`version: one\n${minimal}`)).toEqual(['version: must be a whole number, not string "one"']);
  });

  it('reads keys from env and says which variable is missing', () => {
    const text = 'routes:\n- name: r\n  targets:\n  - {name: a, provider: openai, model: m, apiKey: {env: MY_KEY}}';
    expect(parseConfig(text, '/x', { MY_KEY: 'k1' }).config.routes[0]!.targets[0]!.apiKey!.reveal()).toBe('k1');
    expect(problems(text)).toEqual(["route 'r' target 'a': environment variable MY_KEY is not set"]);
  });

  it('never puts a key into a problem, even from invalid YAML next to it', () => {
    let message = '';
    try {
      parseConfig('routes:\n- name: r\n  targets:\n  - {name: a, apiKey: {value: sk-very-secret}, : : :', '/x', {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/not valid YAML/);
    expect(message).not.toContain('sk-very-secret');
  });
});

describe('loadConfig', () => {
  it('reads key files relative to the config file, and changes its fingerprint when a key rotates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmroute-config-'));
    writeFileSync(join(dir, 'key'), 'sk-one\n');
    writeFileSync(join(dir, 'config.yaml'), 'routes:\n- name: r\n  targets:\n  - {name: a, provider: openai, model: m, apiKey: {file: key}}\n');
    const first = loadConfig(join(dir, 'config.yaml'), {});
    expect(first.config.routes[0]!.targets[0]!.apiKey!.reveal()).toBe('sk-one');
    writeFileSync(join(dir, 'key'), 'sk-two\n');
    const second = loadConfig(join(dir, 'config.yaml'), {});
    expect(second.config.routes[0]!.targets[0]!.apiKey!.reveal()).toBe('sk-two');
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(loadConfig(join(dir, 'config.yaml'), {}).fingerprint).toBe(second.fingerprint);
  });

  it('says clearly when the file or a key file is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmroute-config-'));
    expect(() => loadConfig(join(dir, 'nope.yaml'))).toThrow(/cannot read the config file \(ENOENT\)/);
    writeFileSync(join(dir, 'config.yaml'), 'routes:\n- name: r\n  targets:\n  - {name: a, provider: openai, model: m, apiKey: {file: missing}}\n');
    expect(() => loadConfig(join(dir, 'config.yaml'))).toThrow(/cannot read key file missing \(ENOENT\)/);
  });
});
