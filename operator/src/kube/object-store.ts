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
  /** namespace → name → object: a namespace's objects are found without looking at the others. */
  readonly #byNs = new Map<string, Map<string, T>>();
  #size = 0;
  readonly #onChange: ChangeHandler<T>;

  constructor(onChange: ChangeHandler<T> = () => {}) {
    this.#onChange = onChange;
  }

  /** Replaces every object of `scope` (a namespace; undefined: all) with `items`. */
  replace(scope: string | undefined, items: readonly T[]): void {
    const fresh = new Set(items.map(objectKey));
    for (const [ns, names] of scope === undefined ? [...this.#byNs] : [[scope, this.#byNs.get(scope)] as const]) {
      for (const [name, old] of [...(names ?? [])]) {
        if (fresh.has(`${ns}/${name}`)) continue;
        this.#delete(ns, name);
        this.#onChange(old, undefined);
      }
    }
    for (const o of items) this.upsert(o);
  }

  upsert(o: T): void {
    const ns = o.metadata.namespace ?? '';
    let names = this.#byNs.get(ns);
    if (!names) this.#byNs.set(ns, (names = new Map()));
    const old = names.get(o.metadata.name);
    names.set(o.metadata.name, o);
    if (!old) this.#size++;
    if (old && old.metadata.resourceVersion !== undefined && old.metadata.resourceVersion === o.metadata.resourceVersion) return;
    this.#onChange(old, o);
  }

  remove(o: KubeObject): void {
    const ns = o.metadata.namespace ?? '';
    const old = this.#byNs.get(ns)?.get(o.metadata.name);
    if (!old) return;
    this.#delete(ns, o.metadata.name);
    this.#onChange(old, undefined);
  }

  #delete(ns: string, name: string): void {
    const names = this.#byNs.get(ns);
    if (!names?.delete(name)) return;
    this.#size--;
    if (!names.size) this.#byNs.delete(ns);
  }

  get(namespace: string, name: string): T | undefined {
    return this.#byNs.get(namespace)?.get(name);
  }

  /** Objects of one namespace, or all. */
  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.#byNs.get(namespace)?.values() ?? [])];
    const out: T[] = [];
    for (const names of this.#byNs.values()) for (const o of names.values()) out.push(o);
    return out;
  }

  namespaces(): Set<string> {
    return new Set(this.#byNs.keys());
  }

  get size(): number {
    return this.#size;
  }
}
