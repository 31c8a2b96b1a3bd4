/**
 * Fuzzes the config loader (parseConfig) with fast-check. Whatever the
 * text: it either compiles, or it is refused with a ConfigError whose every
 * problem names where it is (a field path, a route and target, or a YAML
 * line and column); nothing else is ever thrown; and no key material
 * appears in a message, wherever in the file the key was put.
 *
 * FUZZ_RUNS scales the number of runs (default: a CI-sized few hundred).
 */
import { describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { parseConfig } from '../../sidecar/src/config/load-config.ts';
import { ConfigError } from '../../sidecar/src/errors.ts';

jest.setTimeout(60_000);

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SECRET = 'sk-fuzz-SECRET-4f9c2a7e1b8d3c6a';
const ENV_SECRET = 'sk-fuzz-ENVSECRET-9e8d7c6b5a4f3e2d';

/** A known-good config as data: the mutations start from it. */
function base(): any {
  return {
    listen: { host: '127.0.0.1', port: 4000 },
    admin: { host: '0.0.0.0', port: 4001 },
    logLevel: 'info',
    routes: [
      {
        name: 'chat',
        aliases: ['gpt-4o'],
        targets: [
          { name: 'openai', provider: 'openai', model: 'gpt-4o-mini', priority: 0, weight: 80, apiKey: { value: SECRET } },
          { name: 'claude', provider: 'anthropic', model: 'claude-sonnet-4-5', priority: 1, apiKey: { env: 'FUZZ_KEY' } },
          { name: 'local', provider: 'openai-compatible', baseURL: 'http://127.0.0.1:11434/v1', model: 'llama3.1' },
        ],
        retry: { attempts: 1, backoff: { initial: '200ms', max: '2s' }, retryAfterCap: '10s' },
        fallbackOn: ['rate-limit', 'server-error'],
        timeouts: { connect: '2s', firstByte: '15s', firstContent: '10m', idle: '30s', total: '10m' },
        circuitBreaker: { consecutiveFailures: 5, openFor: '30s' },
      },
    ],
  };
}

/** Every path into the base config, as key lists. */
function paths(v: any, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) out.push(...paths(v[k], [...prefix, k]));
  return out;
}
const PATHS = paths(base()).filter((p) => p.length > 0);

const pathText = (p: (string | number)[]): string => p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : String(k)), '');

/**
 * Values of every kind, with the ones that break things on purpose. (Not the
 * key: a key is key material where it belongs, under apiKey; pasted into
 * another field it is just a wrong value there.)
 */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    -1, 0, 1e12, 2 ** 53, -0.5, 1.5, '', ' ', '0', '0ms', '600h', '99999999999h', '1.5.5s', '-1s', 'NaN', 'Infinity', 'null',
    'nope', 'http://', 'ftp://x', '__proto__', 'constructor', 'toString', '\u0000', '\u202e', 'a'.repeat(300),
    [], {}, [null], { __proto__: null }, true, false, null,
  ),
);

const KEYS_THAT_MATTER = ['name', 'provider', 'model', 'baseURL', 'apiVersion', 'priority', 'weight', 'apiKey', 'value', 'env', 'file', 'routes', 'targets', 'aliases', 'retry', 'attempts', 'backoff', 'initial', 'max', 'retryAfterCap', 'fallbackOn', 'timeouts', 'connect', 'firstByte', 'idle', 'total', 'circuitBreaker', 'consecutiveFailures', 'openFor', 'listen', 'admin', 'host', 'port', 'logLevel'];

type Mutation =
  | { op: 'set'; path: (string | number)[]; value: unknown }
  | { op: 'delete'; path: (string | number)[] }
  | { op: 'add'; path: (string | number)[]; key: string; value: unknown }
  | { op: 'keyElsewhere'; path: (string | number)[] };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), path: fc.constantFrom(...PATHS), value: anyValue }),
  fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...PATHS) }),
  fc.record({
    op: fc.constant('add' as const),
    path: fc.constantFrom(...PATHS),
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', ...KEYS_THAT_MATTER)),
    value: anyValue,
  }),
  // the key put in its field in the wrong shape: a bare string, a list, a nested object, a field name...
  fc.record({ op: fc.constant('keyElsewhere' as const), path: fc.constantFrom(...PATHS.filter((p) => p[p.length - 1] === 'apiKey' || p[p.length - 2] === 'apiKey')) }),
);

function apply(doc: any, m: Mutation, secretShape: number): void {
  const parentPath = m.path.slice(0, -1);
  let parent = doc;
  for (const k of parentPath) {
    if (parent === null || typeof parent !== 'object') return;
    parent = parent[k];
  }
  if (parent === null || typeof parent !== 'object') return;
  const last = m.path[m.path.length - 1]!;
  if (m.op === 'set') parent[last] = m.value;
  else if (m.op === 'delete') {
    if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
    else delete parent[last];
  } else if (m.op === 'add') {
    const target = parent[last];
    if (target && typeof target === 'object' && !Array.isArray(target)) Object.defineProperty(target, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
  } else {
    const shapes = [SECRET, [SECRET], { value: { key: SECRET } }, { value: [SECRET] }, { value: SECRET, env: 'X' }, { valu: SECRET }, { [SECRET]: null }, { value: { [SECRET]: 1 } }];
    parent[last] = shapes[secretShape % shapes.length];
  }
}

/** What a problem must look like: where, then what. */
const FIELD = String.raw`(?:[A-Za-z_$][\w$-]*|\["(?:[^"\\]|\\.)*"\])(?:\.[A-Za-z_$][\w$-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*`;
const LOCATED = new RegExp(String.raw`^(\(root\)|${FIELD}|route '[^']*' target '[^']*'): \S|^not valid YAML( \(line \d+, column \d+\))?$`);

function outcome(text: string): { ok: true } | { ok: false; err: ConfigError } {
  try {
    parseConfig(text, '/nonexistent', { FUZZ_KEY: ENV_SECRET });
    return { ok: true };
  } catch (err) {
    // anything but a ConfigError is a crash: let it fail the property
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, err };
  }
}

function checkRefusal(err: ConfigError): void {
  expect(err.problems.length).toBeGreaterThan(0);
  for (const p of err.problems) {
    expect(typeof p).toBe('string');
    // a field name that was key material shows as [redacted]
    expect(p.replaceAll('[redacted]', 'redacted')).toMatch(LOCATED);
  }
  const all = `${err.message}\n${err.problems.join('\n')}`;
  expect(all).not.toContain(SECRET);
  expect(all).not.toContain(ENV_SECRET);
  // no piece of the key either (a message that cut it short would still leak most of it)
  expect(all).not.toContain(SECRET.slice(8, 24));
}

describe('parseConfig under fuzzing', () => {
  it('the base config is valid (the mutations start from a good one)', () => {
    expect(outcome(yaml.dump(base())).ok).toBe(true);
  });

  it('mutated configs: compiled, or refused with located problems and no key material', () => {
    let refused = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.nat(), fc.boolean(), (ms, shape, flow) => {
        const doc = base();
        for (const m of ms) apply(doc, m, shape);
        let text: string;
        try {
          text = yaml.dump(doc, { flowLevel: flow ? 3 : -1, noRefs: true });
        } catch {
          return; // not representable as YAML (e.g. undefined): nothing to test
        }
        const r = outcome(text);
        if (r.ok) return;
        refused++;
        checkRefusal(r.err);
      }),
      { numRuns: RUNS * 3 },
    );
    expect(refused).toBeGreaterThan(RUNS); // the fuzzer really produced invalid configs
  });

  it('a mutation that names a known field is reported at that field or above it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PATHS.filter((p) => p.length >= 2)), fc.constantFrom<unknown>(-7, 'nope', [], { x: 1 }, 1.5, true), (path, value) => {
        const doc = base();
        apply(doc, { op: 'set', path, value }, 0);
        const r = outcome(yaml.dump(doc));
        if (r.ok) return; // some values are valid somewhere (a string model, a bool nowhere...)
        checkRefusal(r.err);
        // the problem points at the field, or at an object that holds it (a cross-field rule), or at the key's route and target
        const at = pathText(path);
        const located = r.err.problems.some((p) => {
          const where = p.slice(0, p.indexOf(': '));
          return at.startsWith(where) || where.startsWith(at) || where === '(root)' || p.startsWith('route ');
        });
        expect([at, located, r.err.problems]).toEqual([at, true, r.err.problems]);
      }),
      { numRuns: RUNS },
    );
  });

  it('arbitrary text and arbitrary YAML values: never anything but a ConfigError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.jsonValue({ maxDepth: 5 }).map((v) => yaml.dump(v)),
          fc.jsonValue({ maxDepth: 4 }).map((v) => yaml.dump({ routes: v })),
          fc.jsonValue({ maxDepth: 3 }).map((v) => yaml.dump({ routes: [{ name: 'r', targets: v }] })),
          fc.jsonValue({ maxDepth: 3 }).map((v) => yaml.dump({ routes: [{ name: 'r', targets: [{ name: 't', provider: 'openai', model: 'm', apiKey: v }] }] })),
          // YAML's own features: anchors, aliases, tags, multi-documents, deep flow nesting
          fc.constantFrom(
            'a: &a [*a]\nroutes: *a\n',
            'routes: &r [{name: r, targets: *r}]\n',
            '--- {}\n--- {}\n',
            '!!binary aGVsbG8=',
            `routes: ${'['.repeat(500)}${']'.repeat(500)}`,
            `routes: ${'{a: '.repeat(300)}1${'}'.repeat(300)}`,
            '? [a, b]\n: c\n',
            'routes:\n- name: r\n  targets:\n  - {name: t, provider: openai, model: m, apiKey: {value: !!str 123}}\n  - {name: t, provider: openai, model: m}\n',
            `routes:\n- name: r\n  targets:\n  - {name: t, provider: openai, model: m, apiKey: {value: "${SECRET}"}, apiKey: x}\n`,
          ),
        ),
        (text) => {
          const r = outcome(text);
          if (!r.ok) checkRefusal(r.err);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('text with the key in it, cut or corrupted at random: never a crash, never the key in a message', () => {
    const good = yaml.dump(base(), { flowLevel: 3 });
    fc.assert(
      fc.property(fc.nat({ max: good.length }), fc.nat({ max: 40 }), fc.string({ maxLength: 6, unit: fc.constantFrom(':', '{', '}', '[', ']', ',', '"', "'", '\n', ' ', '-', '#', '&', '*', '!', '|', '>') }), (at, cut, insert) => {
        const i = good.indexOf(SECRET);
        // keep the key whole (corrupting the key itself makes another string that is no longer it)
        if (at > i - 1 && at < i + SECRET.length + 1) return;
        const text = good.slice(0, at) + insert + good.slice(at + cut);
        if (text.indexOf(SECRET) === -1) return;
        const r = outcome(text);
        if (!r.ok) checkRefusal(r.err);
      }),
      { numRuns: RUNS * 3 },
    );
  });
});
