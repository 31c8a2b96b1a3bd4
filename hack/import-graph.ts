/**
 * The repository's import graph, read from the sources as text: every
 * relative and bare import of every .ts file in the workspaces, and the
 * rules they must keep (import-graph.test.ts runs them in CI):
 *
 *   api ← common ← {sidecar, operator}
 *
 * - a workspace imports only itself and the workspaces to its left, never
 *   sideways (sidecar ↔ operator) or backwards;
 * - production files (not *.test.ts) import a bare package only when their
 *   workspace's package.json lists it under dependencies, so each image,
 *   which installs only its own workspace's production dependencies, has
 *   what it loads;
 * - production files form no import cycle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

export const WORKSPACES = ['api', 'common', 'sidecar', 'operator'] as const;
export type Workspace = (typeof WORKSPACES)[number];

/** What each workspace may import besides itself. */
export const ALLOWED: Readonly<Record<Workspace, readonly Workspace[]>> = {
  api: [],
  common: ['api'],
  sidecar: ['api', 'common'],
  operator: ['api', 'common'],
};

export interface ImportEdge {
  /** Repository-relative path of the importing file. */
  from: string;
  /** The specifier as written. */
  specifier: string;
  /** Repository-relative path for a relative import; undefined for a bare one. */
  to: string | undefined;
  /** `import type` / `export type`: erased at run time. */
  typeOnly: boolean;
}

// import x from '...'; import type {...} from '...'; export {...} from '...'; import '...'; await import('...')
const IMPORT_RE = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The import edges of one file's source text. Comments' text is not stripped; the sources keep no import-looking lines in comments. */
export function importsOf(file: string, text: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const specifier = m[3] ?? m[4]!;
    const typeOnly = m[2] !== undefined;
    const to = specifier.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) : undefined;
    edges.push({ from: file, specifier, to, typeOnly });
  }
  return edges;
}

export function workspaceOf(file: string): Workspace | undefined {
  const top = file.split('/')[0];
  return (WORKSPACES as readonly string[]).includes(top!) ? (top as Workspace) : undefined;
}

/** The package a bare specifier names: `undici/lib/x.js` → `undici`, `@scope/pkg/x` → `@scope/pkg`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

export function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier);
}

export const isTestFile = (file: string): boolean => file.endsWith('.test.ts') || file.includes('/__snapshots__/');

/** Every .ts file of the workspaces, repository-relative. */
export function workspaceFiles(repo: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(repo, rel), { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'dist') continue;
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (e.name.endsWith('.ts')) out.push(r);
    }
  };
  for (const w of WORKSPACES) walk(w);
  return out.sort();
}

/** The rules above, as a list of problems (empty when the graph keeps them). */
export function importProblems(repo: string): string[] {
  const problems: string[] = [];
  const deps = new Map<Workspace, Set<string>>();
  for (const w of WORKSPACES) {
    const pkg = JSON.parse(readFileSync(path.join(repo, w, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    deps.set(w, new Set(Object.keys(pkg.dependencies ?? {})));
  }
  const graph = new Map<string, string[]>();
  for (const file of workspaceFiles(repo)) {
    const ws = workspaceOf(file)!;
    const test = isTestFile(file);
    const runtimeEdges: string[] = [];
    for (const e of importsOf(file, readFileSync(path.join(repo, file), 'utf8'))) {
      if (e.to !== undefined) {
        const target = workspaceOf(e.to);
        if (target === undefined) {
          // Tests may use the shared test fakes and harness; production code may not reach outside the workspaces.
          if (!test) problems.push(`${file}: imports ${e.specifier}, outside the workspaces`);
        } else if (target !== ws && !ALLOWED[ws].includes(target)) {
          problems.push(`${file}: ${ws} imports ${target} (${e.specifier}); allowed: ${[ws, ...ALLOWED[ws]].join(', ')}`);
        }
        if (!test && !e.typeOnly) runtimeEdges.push(e.to);
      } else if (!test && !e.typeOnly && !isBuiltin(e.specifier)) {
        const pkg = packageOf(e.specifier);
        if (!deps.get(ws)!.has(pkg)) problems.push(`${file}: imports ${pkg}, which ${ws}/package.json does not list under dependencies`);
      }
    }
    if (!test) graph.set(file, runtimeEdges);
  }
  for (const cycle of cyclesOf(graph)) problems.push(`import cycle: ${cycle.join(' → ')}`);
  return problems;
}

/** Each cycle once (Tarjan's strongly connected components of more than one file, or a file importing itself). */
export function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push([...scc.reverse(), scc[0]!]);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}
