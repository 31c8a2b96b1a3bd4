/**
 * An in-memory copy of one kind of object, filled by reflectors (list +
 * watch), keyed by namespace/name. Every change calls `onChange` with the
 * old and the new object (undefined for an add or a delete), the relist of
 * a scope included: objects that vanished while the watch was down are
 * reported as deleted.
 */
export interface KubeObject {
  metadata: { name: string; namespace?: string | undefined; resourceVersion?: string | undefined; uid?: string | undefined };
}

export type ChangeHandler<T> = (before: T | undefined, after: T | undefined) => void;

export function objectKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

export class ObjectStore<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #onChange: ChangeHandler<T>;

  constructor(onChange: ChangeHandler<T> = () => {}) {
    this.#onChange = onChange;
  }

  /** Replaces every object of `scope` (a namespace; undefined: all) with `items`. */
  replace(scope: string | undefined, items: readonly T[]): void {
    const fresh = new Map(items.map((o) => [objectKey(o), o]));
    for (const [key, old] of [...this.#items]) {
      if (scope !== undefined && (old.metadata.namespace ?? '') !== scope) continue;
      if (!fresh.has(key)) {
        this.#items.delete(key);
        this.#onChange(old, undefined);
      }
    }
    for (const o of fresh.values()) this.upsert(o);
  }

  upsert(o: T): void {
    const key = objectKey(o);
    const old = this.#items.get(key);
    this.#items.set(key, o);
    if (old && old.metadata.resourceVersion !== undefined && old.metadata.resourceVersion === o.metadata.resourceVersion) return;
    this.#onChange(old, o);
  }

  remove(o: KubeObject): void {
    const key = objectKey(o);
    const old = this.#items.get(key);
    if (!old) return;
    this.#items.delete(key);
    this.#onChange(old, undefined);
  }

  get(namespace: string, name: string): T | undefined {
    return this.#items.get(`${namespace}/${name}`);
  }

  /** Objects of one namespace, or all. */
  list(namespace?: string): T[] {
    const out: T[] = [];
    for (const o of this.#items.values()) if (namespace === undefined || (o.metadata.namespace ?? '') === namespace) out.push(o);
    return out;
  }

  namespaces(): Set<string> {
    return new Set([...this.#items.values()].map((o) => o.metadata.namespace ?? ''));
  }

  get size(): number {
    return this.#items.size;
  }
}
