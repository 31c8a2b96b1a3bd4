// What the two Dockerfiles assemble, without a Docker engine: hack/image-assemble.ts carries out
// each Dockerfile's stages (the build context .dockerignore allows, tsc, `npm ci --omit=dev
// --workspace=...` from the lockfile, the runtime stage's COPYs). Then the sidecar from its image
// serves a real failover against fake providers, the operator and the injector from theirs answer
// --help, and each image holds only its own workspaces and production dependencies. Also checks
// the Dockerfiles' own assumptions: the entrypoints exist in dist/, the user is 65532, the base is
// a pinned Node 24.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { instructions, nodeEntrypoint } from '../../hack/dockerfile.ts';
import { assembleImage, type AssembledImage } from '../../hack/image-assemble.ts';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const NODE = process.execPath; // Node 24 (the node@24 dev dependency runs the tests)
const DOCKERFILES = { sidecar: 'sidecar/Dockerfile', operator: 'operator/Dockerfile' } as const;
type Component = keyof typeof DOCKERFILES;

/** A Dockerfile of the repository, read. */
const dockerfile = (file: string): string => readFileSync(path.join(REPO, file), 'utf8');

/** Every package folder under node_modules (scoped ones as @scope/name). */
function packages(root: string): string[] {
  const nm = path.join(root, 'node_modules');
  return readdirSync(nm).flatMap((n) => (n.startsWith('@') ? readdirSync(path.join(nm, n)).map((m) => `${n}/${m}`) : [n]));
}

/** What each workspace's package.json lists under dependencies, workspaces left out. */
function workspaceDeps(ws: string): string[] {
  const pkg = JSON.parse(readFileSync(path.join(REPO, ws, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(pkg.dependencies ?? {}).filter((d) => !d.startsWith('@llmroute/'));
}

function du(dir: string): number {
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  return Number(r.stdout.split(/\s/)[0]);
}

// ---------------------------------------------------------------------------

let work: string;
const images = {} as Record<Component, AssembledImage>;
const children: ChildProcess[] = [];
const fakes: FakeProvider[] = [];

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'llmroute-image-'));
  for (const [name, file] of Object.entries(DOCKERFILES) as Array<[Component, string]>) {
    images[name] = assembleImage(REPO, file, path.join(work, name), NODE);
    // The size of what each image adds to its base, for the record (the closing note and docs/ARCHITECTURE.md quote it).
    process.stdout.write(`image ${name}: node_modules ${(du(path.join(images[name].root, 'node_modules')) / 1e6).toFixed(1)} MB, dist ${(du(path.join(images[name].root, 'dist')) / 1e6).toFixed(1)} MB\n`);
  }
}, 300_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const f of fakes) await f.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the Dockerfiles', () => {
  it.each(Object.entries(DOCKERFILES))('%s: multi-stage on a pinned Node 24, npm ci --omit=dev of its own workspace, USER 65532, entrypoint in dist/', (name, file) => {
    const ins = instructions(dockerfile(file));
    const froms = ins.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(3);
    const nodeImage = ins.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='))!.args.split('=')[1]!;
    // The same Node release the project runs on, not a floating tag.
    const pinned = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.node!.replace(/^[\^~]/, '');
    expect(nodeImage).toBe(`node:${pinned}-slim`);
    expect(process.versions.node).toBe(pinned);
    expect(ins.some((i) => i.op === 'RUN' && new RegExp(`npm ci --omit=dev --workspace=${name}\\b`).test(i.args))).toBe(true);
    const image = images[name as Component];
    expect(image.user).toBe('65532:65532');
    expect(image.workdir).toBe('/app');
    expect(image.env).toEqual({ NODE_ENV: 'production' });
    // The runtime stage copies only node_modules, dist and package.json.
    const lastFrom = ins.lastIndexOf(froms[froms.length - 1]!);
    const runtimeCopies = ins.slice(lastFrom).filter((i) => i.op === 'COPY').map((i) => i.args.replace(/--from=\S+\s+/, '').split(/\s+/)[0]);
    expect(runtimeCopies.sort()).toEqual(['/app/node_modules', '/src/dist', 'package.json']);
    const { flags, script } = nodeEntrypoint(dockerfile(file)); // throws unless an exec-form ENTRYPOINT starts node
    expect(image.entrypoint).toEqual(['node', ...flags, script]);
    expect(existsSync(path.join(image.root, script))).toBe(true);
    // node flags, if any, are ones this Node knows (a typo would stop the container at start)
    if (flags.length) expect(spawnSync(NODE, [...flags, '-e', '0'], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
  });

  it('the context leaves out tests, snapshots, test helpers and everything else', () => {
    const context = images.sidecar.context;
    expect(context).toContain('sidecar/src/cli.ts');
    expect(context).toContain('operator/src/webhook/start.ts');
    expect(context.filter((f) => f.endsWith('.test.ts') || f.includes('__snapshots__') || f.includes('/testing/'))).toEqual([]);
    expect(context.some((f) => f.startsWith('test/') || f.startsWith('charts/') || f === 'README.md')).toBe(false);
  });
});

describe('the built output', () => {
  it.each(Object.keys(DOCKERFILES))('%s: its own workspaces and production dependencies only', (name) => {
    const root = images[name as Component].root;
    expect(readdirSync(root).sort()).toEqual(['dist', 'node_modules', 'package.json']);
    const other = name === 'sidecar' ? 'operator' : 'sidecar';
    expect(readdirSync(path.join(root, 'dist')).sort()).toEqual(['api', 'common', name].sort());
    expect(existsSync(path.join(root, 'dist', other))).toBe(false);
    const installed = packages(root);
    for (const dep of workspaceDeps(name)) expect(installed).toContain(dep);
    // Nothing of the other component's, no dev tool, no links to the workspaces.
    for (const dep of workspaceDeps(other).filter((d) => !workspaceDeps(name).includes(d))) expect(installed).not.toContain(dep);
    for (const dev of ['jest', 'typescript', 'openai', 'node', '@swc/core', 'fast-check', 'express', 'http-proxy', 'autocannon', '@llmroute/api', '@llmroute/sidecar']) expect(installed).not.toContain(dev);
  });

  it('the sidecar image has no Kubernetes client and stays small', () => {
    const installed = packages(images.sidecar.root);
    expect(installed.filter((p) => p.startsWith('@kubernetes/'))).toEqual([]);
    // What every request uses (undici, prom-client, js-yaml and theirs): about 8 MB; 79 MB when both
    // images shared one install.
    const modules = path.join(images.sidecar.root, 'node_modules');
    const core = ['undici', 'prom-client', 'js-yaml', 'argparse', 'tdigest', 'bintrees', '@opentelemetry'].reduce((n, p) => n + (existsSync(path.join(modules, p)) ? du(path.join(modules, p)) : 0), 0);
    expect(core).toBeLessThan(15e6);
    // With the AWS and Google libraries of the bedrock and gemini/vertex targets (loaded only by routes
    // that use them: providers' module-cache tests): 25.7 MB when they came in (README, "Performance").
    expect(du(modules)).toBeLessThan(32e6);
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
    // As the image runs it: node <its ENTRYPOINT flags> dist/sidecar/src/cli.js --config ..., from /app,
    // on ports the kernel picks: the "listening" line says which.
    const [, ...entry] = images.sidecar.entrypoint;
    const child = spawn(NODE, [...entry, '--config', path.join(dir, 'config.yaml'), '--port', '0', '--admin-port', '0'], {
      cwd: images.sidecar.root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', ...images.sidecar.env },
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

  it('the operator and the injector from the operator image answer --help; both say the package version', () => {
    for (const cli of ['dist/operator/src/cli.js', 'dist/operator/src/inject/cli.js']) {
      const r = spawnSync(NODE, [cli, '--help'], { cwd: images.operator.root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 });
      expect({ cli, status: r.status, stderr: r.stderr }).toEqual({ cli, status: 0, stderr: '' });
      expect(r.stdout).toMatch(/^usage: llmroute-(operator|inject)/);
    }
    const want = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
    for (const [name, cli] of [['sidecar', 'dist/sidecar/src/cli.js'], ['operator', 'dist/operator/src/cli.js']] as const) {
      expect(spawnSync(NODE, [cli, '--version'], { cwd: images[name].root, encoding: 'utf8' }).stdout.trim()).toBe(want);
    }
  });
});
