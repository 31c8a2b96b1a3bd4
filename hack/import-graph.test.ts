// The import rules of hack/import-graph.ts, over the real tree, and the rule checker itself on small graphs.
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { cyclesOf, importProblems, importsOf, packageOf } from './import-graph.ts';

const REPO = path.resolve(import.meta.dirname, '..');

describe('the repository', () => {
  it('imports one way (api ← common ← {sidecar, operator}), lists every runtime package its workspace loads, and has no cycle', () => {
    expect(importProblems(REPO)).toEqual([]);
  });
});

describe('importsOf', () => {
  it('reads static, type-only, re-export, side-effect and dynamic imports', () => {
    const src = [
      "import { a } from './a.ts';",
      "import type { B } from '../b/b.ts';",
      "export { c } from './c.ts';",
      "export type { D } from './d.ts';",
      "import 'node:fs';",
      "import {\n  e,\n  f,\n} from 'undici/lib/x.js';",
      "const g = await import('./g.ts');",
    ].join('\n');
    expect(importsOf('sidecar/src/x.ts', src).map((e) => [e.specifier, e.to, e.typeOnly])).toEqual([
      ['./a.ts', 'sidecar/src/a.ts', false],
      ['../b/b.ts', 'sidecar/b/b.ts', true],
      ['./c.ts', 'sidecar/src/c.ts', false],
      ['./d.ts', 'sidecar/src/d.ts', true],
      ['node:fs', undefined, false],
      ['undici/lib/x.js', undefined, false],
      ['./g.ts', 'sidecar/src/g.ts', false],
    ]);
  });

  it('names the package of a deep or scoped import', () => {
    expect(packageOf('undici/lib/dispatcher/agent.js')).toBe('undici');
    expect(packageOf('@kubernetes/client-node')).toBe('@kubernetes/client-node');
    expect(packageOf('@peculiar/x509/lib/x.js')).toBe('@peculiar/x509');
  });
});

describe('cyclesOf', () => {
  it('finds each cycle once, and none in a tree', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(cyclesOf(g)).toEqual([['a', 'b', 'c', 'a'], ['e', 'e']]);
    expect(cyclesOf(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });
});
