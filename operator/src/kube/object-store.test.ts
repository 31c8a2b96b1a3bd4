import { ObjectStore, type KubeObject } from './object-store.ts';

const obj = (ns: string, name: string, rv: string): KubeObject => ({ metadata: { name, namespace: ns, resourceVersion: rv } });

describe('ObjectStore', () => {
  function store() {
    const changes: string[] = [];
    const s = new ObjectStore<KubeObject>((b, a) => changes.push(`${b ? b.metadata.resourceVersion : '-'}>${a ? a.metadata.resourceVersion : '-'}:${(a ?? b)!.metadata.name}`));
    return { s, changes };
  }

  it('reports adds, updates and deletes, and skips an unchanged resourceVersion', () => {
    const { s, changes } = store();
    s.upsert(obj('a', 'x', '1'));
    s.upsert(obj('a', 'x', '1'));
    s.upsert(obj('a', 'x', '2'));
    s.remove(obj('a', 'x', '3'));
    s.remove(obj('a', 'x', '3'));
    expect(changes).toEqual(['->1:x', '1>2:x', '2>-:x']);
  });

  it('replace() reports what vanished while the watch was down, only within its scope', () => {
    const { s, changes } = store();
    s.replace(undefined, [obj('a', 'x', '1'), obj('a', 'gone', '1'), obj('b', 'other', '1')]);
    changes.length = 0;
    s.replace('a', [obj('a', 'x', '5'), obj('a', 'new', '6')]);
    expect(changes.sort()).toEqual(['->6:new', '1>-:gone', '1>5:x']);
    expect(s.get('b', 'other')).toBeDefined();
    expect(s.list('a').map((o) => o.metadata.name).sort()).toEqual(['new', 'x']);
    expect([...s.namespaces()].sort()).toEqual(['a', 'b']);
    expect(s.size).toBe(3);
  });
});
