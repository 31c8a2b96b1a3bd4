/**
 * RFC 6902 JSON Patch: the operations the injector emits, RFC 6901 pointer
 * escaping, and a small applier (add, replace, remove, test) used by the
 * inject CLI and by tests to see the pod a patch produces. Pure.
 */
import { OperatorError } from '../errors.ts';

export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** One reference token of a JSON pointer: `~` → `~0`, `/` → `~1` (RFC 6901). */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...tokens: Array<string | number>): string {
  return tokens.map((t) => `/${escapePointerToken(String(t))}`).join('');
}

function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

export class JsonPatchError extends OperatorError<'json_patch'> {
  constructor(message: string) {
    super('json_patch', message);
  }
}

/** Applies the operations to a deep copy of doc and returns it; throws JsonPatchError when one does not apply. */
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOperation[]): T {
  let root: unknown = structuredClone(doc);
  for (const op of ops) {
    if (op.path === '') {
      if (op.op === 'add' || op.op === 'replace') root = structuredClone(op.value);
      else throw new JsonPatchError(`${op.op} of the whole document is not supported`);
      continue;
    }
    const tokens = op.path.split('/').slice(1).map(unescapeToken);
    const last = tokens.pop()!;
    let parent: unknown = root;
    for (const t of tokens) {
      parent = child(parent, t, op.path);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!/^(0|[1-9]\d*|-)$/.test(last) || index > parent.length) throw new JsonPatchError(`${op.path}: bad array index`);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (index >= parent.length) throw new JsonPatchError(`${op.path}: no such element`);
      else if (op.op === 'replace') parent[index] = structuredClone(op.value);
      else if (op.op === 'remove') parent.splice(index, 1);
      else if (JSON.stringify(parent[index]) !== JSON.stringify(op.value)) throw new JsonPatchError(`${op.path}: test failed`);
    } else if (parent && typeof parent === 'object') {
      const obj = parent as Record<string, unknown>;
      const has = Object.prototype.hasOwnProperty.call(obj, last);
      if (op.op === 'add') obj[last] = structuredClone(op.value);
      else if (!has) throw new JsonPatchError(`${op.path}: no such member`);
      else if (op.op === 'replace') obj[last] = structuredClone(op.value);
      else if (op.op === 'remove') delete obj[last];
      else if (JSON.stringify(obj[last]) !== JSON.stringify(op.value)) throw new JsonPatchError(`${op.path}: test failed`);
    } else {
      throw new JsonPatchError(`${op.path}: the parent is not a container`);
    }
  }
  return root as T;
}

function child(parent: unknown, token: string, path: string): unknown {
  if (Array.isArray(parent)) {
    const v = parent[Number(token)];
    if (!/^(0|[1-9]\d*)$/.test(token) || v === undefined) throw new JsonPatchError(`${path}: no element ${token}`);
    return v;
  }
  if (parent && typeof parent === 'object' && Object.prototype.hasOwnProperty.call(parent, token)) {
    return (parent as Record<string, unknown>)[token];
  }
  throw new JsonPatchError(`${path}: no member ${token}`);
}
