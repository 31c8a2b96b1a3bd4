/**
 * Carries out one of the project's Dockerfiles without a Docker engine:
 * every stage gets a folder, `WORKDIR` is a folder inside it, `COPY` copies
 * from the build context (what .dockerignore lets through) or from an
 * earlier stage (`--from=NAME`), and `RUN` runs its command with this
 * machine's Node 24 in that folder. What comes out is the last stage's
 * WORKDIR: the files the image would hold under /app, plus its USER, ENV,
 * ENTRYPOINT and CMD.
 *
 * The base image's own files (Debian, /usr/local/bin/node) are not part of
 * it: the caller supplies Node. One shortcut, said where it is taken: a
 * RUN of `npm ci` with the dev dependencies (the compile stage) links the
 * repository's own node_modules, installed from the same lockfile, instead
 * of installing 450 packages again.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { instructions } from './dockerfile.ts';

export interface AssembledImage {
  /** The last stage's WORKDIR on disk. */
  root: string;
  /** The last stage's WORKDIR inside the image, e.g. /app. */
  workdir: string;
  user: string | undefined;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  /** The build context's files, repository-relative. */
  context: string[];
}

// ---------------------------------------------------------------------------
// .dockerignore, as Docker reads it: patterns in order, the last match wins,
// `!` re-includes, a matched folder takes its contents along.

function patternRegex(p: string): RegExp {
  const body = p
    .replace(/\/+$/, '')
    .split(/(\*\*\/|\*\*|\*|\?)/)
    .map((t) => (t === '**/' ? '(?:.*/)?' : t === '**' ? '.*' : t === '*' ? '[^/]*' : t === '?' ? '[^/]' : t.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

export function dockerignore(text: string): (rel: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => (l.startsWith('!') ? { negate: true, re: patternRegex(l.slice(1)) } : { negate: false, re: patternRegex(l) }));
  return (rel) => {
    const parts = rel.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return !excluded;
  };
}

function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (['node_modules', '.git', 'dist', 'coverage'].includes(e.name)) continue;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else out.push(r);
  }
  return out;
}

/** The files of the build context: the repository as .dockerignore filters it. */
export function buildContext(repo: string): string[] {
  const allowed = dockerignore(readFileSync(path.join(repo, '.dockerignore'), 'utf8'));
  return walk(repo).filter(allowed);
}

// ---------------------------------------------------------------------------

interface Stage {
  name: string | undefined;
  dir: string;
  workdir: string;
}

/** `["a", "b"]` (exec form) or `a b` (shell form, split on blanks). */
function argv(args: string): string[] {
  try {
    const v = JSON.parse(args) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {
    // shell form
  }
  return args.split(/\s+/).filter(Boolean);
}

export function assembleImage(repo: string, dockerfile: string, work: string, node: string): AssembledImage {
  const context = buildContext(repo);
  const ctx = path.join(work, 'context');
  for (const f of context) {
    mkdirSync(path.dirname(path.join(ctx, f)), { recursive: true });
    cpSync(path.join(repo, f), path.join(ctx, f));
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  let user: string | undefined;
  let env: Record<string, string> = {};
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  const inStage = (s: Stage, p: string): string => path.join(s.dir, path.posix.isAbsolute(p) ? p : path.posix.join(s.workdir, p));
  const expand = (s: string): string => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? '');

  for (const ins of instructions(readFileSync(path.join(repo, dockerfile), 'utf8'))) {
    const text = expand(ins.args);
    switch (ins.op) {
      case 'ARG': {
        const [k, v] = text.split('=');
        if (!args.has(k!)) args.set(k!, v ?? '');
        break;
      }
      case 'FROM': {
        const m = /^\S+(?:\s+AS\s+(\S+))?$/i.exec(text);
        stage = { name: m?.[1], dir: path.join(work, `stage-${stages.length}`), workdir: '/' };
        mkdirSync(stage.dir, { recursive: true });
        stages.push(stage);
        user = undefined;
        env = {};
        entrypoint = [];
        cmd = [];
        break;
      }
      case 'WORKDIR':
        stage!.workdir = path.posix.resolve(stage!.workdir, text);
        mkdirSync(inStage(stage!, '.'), { recursive: true });
        break;
      case 'ENV': {
        const [k, ...v] = text.split('=');
        env[k!] = v.join('=');
        break;
      }
      case 'USER':
        user = text;
        break;
      case 'ENTRYPOINT':
        entrypoint = argv(text);
        break;
      case 'CMD':
        cmd = argv(text);
        break;
      case 'COPY': {
        const from = /^--from=(\S+)\s+/.exec(text);
        const parts = text.replace(/^--from=\S+\s+/, '').split(/\s+/);
        const dest = parts.pop()!;
        const source = from ? stages.find((s) => s.name === from[1]) : undefined;
        if (from && !source) throw new Error(`${dockerfile}: COPY --from=${from[1]}: no such stage`);
        for (const src of parts) {
          const abs = source ? inStage(source, src) : path.join(ctx, src);
          if (!existsSync(abs)) throw new Error(`${dockerfile}: COPY ${src}: not in the ${source ? `stage ${source.name}` : 'build context'}`);
          const target = dest.endsWith('/') || (parts.length > 1 && !statSync(abs).isDirectory()) ? path.join(inStage(stage!, dest), path.basename(src)) : inStage(stage!, dest);
          mkdirSync(path.dirname(target), { recursive: true });
          cpSync(abs, target, { recursive: true, verbatimSymlinks: true });
        }
        break;
      }
      case 'RUN': {
        const cwd = inStage(stage!, '.');
        for (const step of text.split(/\s*&&\s*/)) {
          if (/^npm ci\b/.test(step) && !/--omit=dev/.test(step)) {
            // The compile stage's dev install: the repository's node_modules, from the same lockfile.
            symlinkSync(path.join(repo, 'node_modules'), path.join(cwd, 'node_modules'), 'dir');
            continue;
          }
          // The builder's own npm cache, not a file of the image.
          if (/^npm cache clean\b/.test(step)) continue;
          if (/^rm -rf /.test(step)) {
            for (const p of step.split(/\s+/).slice(2)) rmSync(path.join(cwd, p), { recursive: true, force: true });
            continue;
          }
          execFileSync('bash', ['-c', step], { cwd, stdio: 'pipe', env: { ...process.env, PATH: `${path.dirname(node)}:${process.env.PATH}` } });
        }
        break;
      }
      case 'EXPOSE':
        break;
      default:
        throw new Error(`${dockerfile}: ${ins.op} is not an instruction this builder carries out`);
    }
  }
  if (!stage) throw new Error(`${dockerfile}: no FROM`);
  return { root: inStage(stage, '.'), workdir: stage.workdir, user, env, entrypoint, cmd, context };
}
