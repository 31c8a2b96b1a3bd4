/**
 * Validates a plain value against a SchemaNode (schema.ts): types, enums,
 * bounds, patterns, unknown fields, one-of groups and the cross-field rules.
 * Returns a copy with every default filled in, or the list of problems, each
 * naming the field by its path (routes[0].targets[1].weight). Pure.
 */
import type { SchemaNode } from './schema.ts';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };

export function validate<T>(schema: SchemaNode, input: unknown, root = ''): ValidationResult<T> {
  const problems: string[] = [];
  const value = walk(schema, input, root, problems);
  return problems.length ? { ok: false, problems } : { ok: true, value: value as T };
}

const patternCache = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) patternCache.set(pattern, (re = new RegExp(pattern)));
  return re;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  // a field name that is not a plain word (empty, spaces, ':' ...) is quoted, so the path still reads as one
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

function walk(schema: SchemaNode, input: unknown, path: string, problems: string[]): unknown {
  const at = path || '(root)';
  switch (schema.type) {
    case 'object': {
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        problems.push(`${at}: must be an object, not ${describe(input)}`);
        return input;
      }
      const src = input as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      if (schema.additionalProperties) {
        const keys = Object.keys(src);
        if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) problems.push(`${at}: takes at most ${schema.maxProperties} entries`);
        const before = problems.length;
        for (const key of keys) out[key] = walk(schema.additionalProperties, src[key], join(path, key), problems);
        if (problems.length === before) checkRules(schema, out, at, problems);
        return out;
      }
      const props = schema.properties ?? {};
      for (const key of Object.keys(src)) {
        if (!Object.hasOwn(props, key)) problems.push(`${join(path, key)}: unknown field (known: ${Object.keys(props).join(', ')})`);
      }
      for (const key of schema.required ?? []) {
        if (src[key] === undefined || src[key] === null) problems.push(`${join(path, key)}: is required`);
      }
      if (schema.oneOf) {
        const set = schema.oneOf.filter((k) => src[k] !== undefined);
        if (set.length !== 1) problems.push(`${at}: set exactly one of ${schema.oneOf.join(', ')} (found ${set.length ? set.join(', ') : 'none'})`);
      }
      const before = problems.length;
      for (const [key, child] of Object.entries(props)) {
        let v = src[key];
        if (v === undefined || v === null) {
          if (child.default === undefined) continue;
          v = structuredClone(child.default);
        }
        out[key] = walk(child, v, join(path, key), problems);
      }
      if (problems.length === before) checkRules(schema, out, at, problems);
      return out;
    }
    case 'array': {
      if (!Array.isArray(input)) {
        problems.push(`${at}: must be a list, not ${describe(input)}`);
        return input;
      }
      if (schema.minItems !== undefined && input.length < schema.minItems) problems.push(`${at}: needs at least ${schema.minItems} item(s)`);
      if (schema.maxItems !== undefined && input.length > schema.maxItems) problems.push(`${at}: takes at most ${schema.maxItems} items`);
      const before = problems.length;
      const out = schema.items ? input.map((item, i) => walk(schema.items!, item, join(path, i), problems)) : [...input];
      if (problems.length === before) checkRules(schema, out, at, problems);
      return out;
    }
    case 'string': {
      if (typeof input !== 'string') {
        problems.push(`${at}: must be a string, not ${describe(input)}`);
        return input;
      }
      const before = problems.length;
      if (schema.enum && !schema.enum.includes(input)) problems.push(`${at}: must be one of ${schema.enum.join(', ')}, not ${JSON.stringify(input)}`);
      if (schema.minLength !== undefined && input.length < schema.minLength) problems.push(`${at}: must not be empty`);
      if (schema.maxLength !== undefined && input.length > schema.maxLength) problems.push(`${at}: must be at most ${schema.maxLength} characters`);
      if (schema.pattern && !regex(schema.pattern).test(input)) problems.push(`${at}: ${JSON.stringify(input)} does not match ${schema.pattern}`);
      if (problems.length === before) checkRules(schema, input, at, problems);
      return input;
    }
    case 'integer': {
      if (typeof input !== 'number' || !Number.isInteger(input)) {
        problems.push(`${at}: must be a whole number, not ${describe(input)}`);
        return input;
      }
      if (schema.minimum !== undefined && input < schema.minimum) problems.push(`${at}: must be >= ${schema.minimum}`);
      if (schema.maximum !== undefined && input > schema.maximum) problems.push(`${at}: must be <= ${schema.maximum}`);
      return input;
    }
    case 'json': {
      // Whatever JSON the YAML held; a copy, so the config never aliases the parsed document.
      return structuredClone(input);
    }
    case 'boolean': {
      if (typeof input !== 'boolean') problems.push(`${at}: must be true or false, not ${describe(input)}`);
      return input;
    }
  }
}

function checkRules(schema: SchemaNode, value: unknown, at: string, problems: string[]): void {
  for (const rule of schema.rules ?? []) {
    let ok: boolean;
    try {
      ok = rule.check(value);
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`${at}: ${rule.message}`);
  }
}
