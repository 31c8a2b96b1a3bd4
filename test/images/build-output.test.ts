// What the two Dockerfiles assemble, without a Docker engine: the build
// context their .dockerignore allows, compiled with the repository's
// tsconfig.build.json (stage 1), production dependencies installed from the
// lockfile with `npm ci --omit=dev` (stage 2), and only dist + node_modules +
// package.json in the runtime folder (stage 3). Then the sidecar from that
// folder serves a real failover against fake providers, and the operator
// and the injector answer --help. Also checks the Dockerfiles' own
// assumptions: every COPY source is in the context, the entrypoints exist in
// dist/, the user is 65532, the base is Node 24.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { instructions, nodeEntrypoint } from '../../hack/dockerfile.ts';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const NODE = process.execPath; // Node 24 (the node@24 dev dependency runs the tests)
const DOCKERFILES = { sidecar: 'sidecar/Dockerfile', operator: 'operator/Dockerfile' } as const;

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

/** A Dockerfile of the repository, read. */
const dockerfile = (file: string): string => readFileSync(path.join(REPO, file), 'utf8');

// ---------------------------------------------------------------------------

let work: string;
let context: string[];
let runtime: string;
const children: ChildProcess[] = [];
const fakes: FakeProvider[] = [];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'llmroute-image-'));
  // The build context.
  const allowed = dockerignore(readFileSync(path.join(REPO, '.dockerignore'), 'utf8'));
  context = walk(REPO).filter(allowed);
  const ctx = path.join(work, 'context');
  for (const f of context) {
    mkdirSync(path.dirname(path.join(ctx, f)), { recursive: true });
    cpSync(path.join(REPO, f), path.join(ctx, f));
  }
  // Stage 1: npm run build (tsc) in the context; the dev dependencies come from the repository.
  symlinkSync(path.join(REPO, 'node_modules'), path.join(ctx, 'node_modules'), 'dir');
  execFileSync(NODE, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ctx, stdio: 'pipe' });
  // Stage 2: production dependencies from the lockfile.
  const deps = path.join(work, 'deps');
  mkdirSync(deps);
  for (const f of ['package.json', 'package-lock.json']) cpSync(path.join(ctx, f), path.join(deps, f));
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: deps, stdio: 'pipe', env: { ...process.env, PATH: `${path.dirname(NODE)}:${process.env.PATH}` } });
  // Stage 3: the runtime folder.
  runtime = path.join(work, 'app');
  mkdirSync(runtime);
  cpSync(path.join(deps, 'node_modules'), path.join(runtime, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  cpSync(path.join(ctx, 'dist'), path.join(runtime, 'dist'), { recursive: true });
  cpSync(path.join(ctx, 'package.json'), path.join(runtime, 'package.json'));
}, 300_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const f of fakes) await f.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the Dockerfiles', () => {
  it.each(Object.entries(DOCKERFILES))('%s: multi-stage on Node 24, npm ci --omit=dev, USER 65532, entrypoint in dist/', (_name, file) => {
    const ins = instructions(dockerfile(file));
    const froms = ins.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(3);
    const nodeImage = ins.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='))!.args.split('=')[1]!;
    expect(nodeImage).toMatch(/^node:24(-|$)|nodejs24/);
    expect(ins.some((i) => i.op === 'RUN' && /npm ci --omit=dev/.test(i.args))).toBe(true);
    expect(ins.filter((i) => i.op === 'USER').map((i) => i.args)).toEqual(['65532:65532']);
    // The runtime stage copies only node_modules, dist and package.json.
    const lastFrom = ins.lastIndexOf(froms[froms.length - 1]!);
    const runtimeCopies = ins.slice(lastFrom).filter((i) => i.op === 'COPY').map((i) => i.args.replace(/--from=\S+\s+/, '').split(/\s+/)[0]);
    expect(runtimeCopies.sort()).toEqual(['/app/node_modules', '/src/dist', 'package.json']);
    const { flags, script } = nodeEntrypoint(dockerfile(file)); // throws unless an exec-form ENTRYPOINT starts node
    expect(existsSync(path.join(runtime, script))).toBe(true);
    // node flags, if any, are ones this Node knows (a typo would stop the container at start)
    if (flags.length) expect(spawnSync(NODE, [...flags, '-e', '0'], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
  });

  it.each(Object.entries(DOCKERFILES))('%s: every COPY source is in the build context', (_name, file) => {
    for (const i of instructions(dockerfile(file)).filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      const parts = i.args.split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        const clean = src.replace(/\/$/, '');
        expect({ src, inContext: context.some((f) => f === clean || f.startsWith(`${clean}/`)) }).toEqual({ src, inContext: true });
      }
    }
  });

  it('the context leaves out tests, snapshots, test helpers and everything else', () => {
    expect(context).toContain('sidecar/src/cli.ts');
    expect(context).toContain('operator/src/webhook/start.ts');
    expect(context.filter((f) => f.endsWith('.test.ts') || f.includes('__snapshots__') || f.includes('/testing/'))).toEqual([]);
    expect(context.some((f) => f.startsWith('test/') || f.startsWith('charts/') || f === 'README.md')).toBe(false);
  });
});

describe('the built output', () => {
  it('has production dependencies only', () => {
    const modules = readdirSync(path.join(runtime, 'node_modules'));
    for (const dep of ['undici', 'js-yaml', 'prom-client', '@kubernetes']) expect(modules).toContain(dep);
    for (const dev of ['jest', 'typescript', 'openai', 'node', '@swc', 'fast-check', 'express', 'http-proxy', 'autocannon']) expect(modules).not.toContain(dev);
    expect(readdirSync(runtime).sort()).toEqual(['dist', 'node_modules', 'package.json']);
    expect(statSync(path.join(runtime, 'dist/sidecar/src/cli.js')).isFile()).toBe(true);
  });

  it('the sidecar from it fails over: primary 503, backup answers', async () => {
    const primary = await startFakeProvider({ flavor: 'openai', name: 'primary', behaviour: { kind: 'status', status: 503 } });
    const backup = await startFakeProvider({ flavor: 'anthropic', name: 'backup' });
    fakes.push(primary, backup);
    const dir = path.join(work, 'etc');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'openai.key'), 'sk-test-primary\n');
    writeFileSync(
      path.join(dir, 'config.yaml'),
      `routes:
- name: chat
  targets:
  - {name: primary, provider: openai, model: gpt-4o-mini, baseURL: "${primary.url}", apiKey: {file: openai.key}}
  - {name: backup, provider: anthropic, model: claude-sonnet-4-5, baseURL: "${backup.url}", priority: 1, apiKey: {value: sk-ant-test}}
  retry: {attempts: 0}
`,
    );
    // As the image runs it: node <its ENTRYPOINT flags> dist/sidecar/src/cli.js --config ..., from /app.
    // On ports the kernel picks: the "listening" line says which.
    const nodeFlags = nodeEntrypoint(dockerfile(DOCKERFILES.sidecar)).flags;
    const child = spawn(NODE, [...nodeFlags, 'dist/sidecar/src/cli.js', '--config', path.join(dir, 'config.yaml'), '--port', '0', '--admin-port', '0'], {
      cwd: runtime,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    });
    children.push(child);
    let listening: { api: string; admin: string } | undefined;
    // ends when the process does, without that line
    for await (const line of createInterface({ input: child.stdout! })) {
      if (line.includes('"msg":"llmroute sidecar listening"')) {
        listening = JSON.parse(line) as { api: string; admin: string };
        break;
      }
    }
    child.stdout!.resume();
    expect(listening).toBeDefined();
    const [port, adminPort] = [listening!.api, listening!.admin].map((a) => a.split(':').pop());
    expect((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).ok).toBe(true);
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmroute-target')).toBe('backup');
    expect(res.headers.get('x-llmroute-fallbacks')).toBe('1');
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]!.message.content).toContain('backup');
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    expect(metrics).toContain('llmroute_fallbacks_total');
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  }, 60_000);

  it('the operator and the injector from it answer --help', () => {
    for (const cli of ['dist/operator/src/cli.js', 'dist/operator/src/inject/cli.js']) {
      const r = spawnSync(NODE, [cli, '--help'], { cwd: runtime, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 });
      expect({ cli, status: r.status, stderr: r.stderr }).toEqual({ cli, status: 0, stderr: '' });
      expect(r.stdout).toMatch(/^usage: llmroute-(operator|inject)/);
    }
    const version = spawnSync(NODE, ['dist/sidecar/src/cli.js', '--version'], { cwd: runtime, encoding: 'utf8' });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
  });
});
