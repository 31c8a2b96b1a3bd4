/**
 * Reads config.yaml and everything it points to (key files, env vars) and
 * compiles it, or throws a ConfigError that lists every problem. The
 * fingerprint changes whenever the file or a key changes, so the watcher
 * applies a config only when something really changed.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import yaml from 'js-yaml';
import { CONFIG_FORMAT_VERSION } from '../../../api/v1alpha1/enums.ts';
import { configFileSchema } from '../../../api/v1alpha1/schema.ts';
import type { ConfigFile } from '../../../api/v1alpha1/types.ts';
import { validate } from '../../../api/v1alpha1/validate.ts';
import { ConfigError } from '../errors.ts';
import { Secret } from '../secret.ts';
import { compileConfig, type RuntimeConfig } from './runtime-config.ts';

export interface LoadedConfig {
  config: RuntimeConfig;
  fingerprint: string;
}

/** Parses and validates config text. `dir` anchors relative key files; `env` supplies env keys. */
export function parseConfig(text: string, dir: string, env: NodeJS.ProcessEnv, file?: string): LoadedConfig {
  let raw: unknown;
  try {
    raw = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    // js-yaml's message quotes the offending line, which may hold a `value:` key: keep only the position.
    const mark = (err as { mark?: { line: number; column: number } }).mark;
    throw new ConfigError([`not valid YAML${mark ? ` (line ${mark.line + 1}, column ${mark.column + 1})` : ''}`], file);
  }
  // Before the schema: a newer format may have fields this sidecar would refuse for the wrong reason.
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && Number.isInteger(version) && version > CONFIG_FORMAT_VERSION) {
    throw new ConfigError(
      [`config format version ${version} is newer than this sidecar reads (${CONFIG_FORMAT_VERSION}): it was written by a newer llmroute-operator; upgrade the sidecar image to the operator's version`],
      file,
    );
  }
  const checked = validate<ConfigFile>(configFileSchema, raw);
  if (!checked.ok) throw new ConfigError(withoutKeys(checked.problems, raw), file);

  const hash = createHash('sha256').update(text);
  const keyProblems: string[] = [];
  const compiled = compileConfig(checked.value as Parameters<typeof compileConfig>[0], (route, target) => {
    const src = target.apiKey;
    if (!src) return undefined;
    const where = `route '${route.name}' target '${target.name}'`;
    let value: string | undefined;
    if (src.value !== undefined) value = src.value;
    else if (src.env !== undefined) {
      // own variables only: `env: toString` must not find Object.prototype's function
      value = Object.hasOwn(env, src.env) ? env[src.env] : undefined;
      if (value === undefined || value === '') keyProblems.push(`${where}: environment variable ${src.env} is not set`);
    } else if (src.file !== undefined) {
      const path = resolve(dir, src.file);
      try {
        value = readFileSync(path, 'utf8').trim();
        if (!value) keyProblems.push(`${where}: key file ${src.file} is empty`);
      } catch (err) {
        keyProblems.push(`${where}: cannot read key file ${src.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (!value) return undefined;
    hash.update('\0').update(target.name).update('\0').update(value);
    return new Secret(value);
  });
  if ('problems' in compiled) throw new ConfigError(compiled.problems, file);
  if (keyProblems.length) throw new ConfigError(withoutKeys(keyProblems, raw), file);
  return { config: compiled.config, fingerprint: hash.digest('hex') };
}

/**
 * Problems quote the values they refuse (`apiKey: must be an object, not
 * string "sk-..."`): take out whatever sits under an `apiKey` field before
 * the problems reach a log line or stderr. Its `env` and `file` names stay
 * readable, unless one looks like a key pasted in the wrong place.
 */
function withoutKeys(problems: string[], raw: unknown): string[] {
  const keys = new Set<string>();
  const collect = (v: unknown, depth: number): void => {
    if (depth > 32) return;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') {
      const s = String(v);
      if (s.length >= 8) {
        keys.add(s);
        keys.add(JSON.stringify(s).slice(1, -1));
      }
    } else if (Array.isArray(v)) for (const x of v) collect(x, depth + 1);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if ((k === 'file' || k === 'env') && !(typeof x === 'string' && looksLikeKey(x, k))) continue;
        if (k !== 'value') collect(k, depth + 1); // `apiKey: {sk-...}` makes the key a field name
        collect(x, depth + 1);
      }
    }
  };
  const walk = (v: unknown, depth: number): void => {
    if (depth > 32 || !v || typeof v !== 'object') return;
    if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else for (const [k, x] of Object.entries(v)) k === 'apiKey' ? collect(x, 0) : walk(x, depth + 1);
  };
  walk(raw, 0);
  if (keys.size === 0) return problems;
  const longestFirst = [...keys].sort((a, b) => b.length - a.length);
  return problems.map((p) => {
    for (const k of longestFirst) if (p.includes(k)) p = p.split(k).join('[redacted]');
    return p;
  });
}

/** A variable name or a path is words; a key is a long run of mixed letters and digits (or says sk-). */
function looksLikeKey(s: string, field: 'file' | 'env'): boolean {
  if (/^sk-/i.test(s)) return true;
  if (field === 'env' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) return true;
  if (field === 'file' && /[/.]/.test(s)) return false;
  return s.length >= 16 && /[0-9]/.test(s) && /[A-Za-z]/.test(s) && !/_/.test(s);
}

/** Reads and parses the config file at `path`. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read the config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`], path);
  }
  return parseConfig(text, dirname(resolve(path)), env, path);
}
