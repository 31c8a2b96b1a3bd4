// The image tarballs of `npm run images` (hack/images.ts), read back with GNU tar rather than the
// code that wrote them: each is a valid OCI image layout and docker-archive (every blob's name is
// its sha256, the manifest names the config and layers by digest and size, the config's diff_ids
// are the layers'), named as the chart's defaults; its config says what its Dockerfile says (USER,
// ENV, WORKDIR, ENTRYPOINT, CMD, EXPOSE, read here from the Dockerfile's own instructions); its app
// layer holds exactly the files the Dockerfile assembles, owned by root; its base layer holds Node
// and the libraries it loads, and the image's own entrypoint runs from the unpacked root filesystem
// (chroot) as uid 65532.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { instructions, nodeEntrypoint } from '../../hack/dockerfile.ts';
import { MEDIA } from '../../hack/image-archive.ts';
import { buildImage, chartImageNames, COMPONENTS, sharedLibraries, type Component } from '../../hack/images.ts';
import { Report } from '../support/report.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const names = Object.keys(COMPONENTS) as Component[];

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every file under `dir`, relative, with its sha256 (symlinks as "-> target"). */
function tree(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    const abs = path.join(dir, r);
    if (e.isSymbolicLink()) out.set(r, `-> ${readlinkSync(abs)}`);
    else if (e.isDirectory()) for (const [k, v] of tree(dir, r)) out.set(k, v);
    else out.set(r, sha256(abs));
  }
  return out;
}

/** The last stage of a Dockerfile, read from its instructions: what the image config must say. */
function lastStage(file: string) {
  const ins = instructions(readFileSync(path.join(REPO, file), 'utf8'));
  const stage = ins.slice(ins.map((i) => i.op).lastIndexOf('FROM'));
  const last = (op: string) => stage.filter((i) => i.op === op).pop()?.args;
  return {
    user: last('USER'),
    workdir: last('WORKDIR'),
    env: stage.filter((i) => i.op === 'ENV').map((i) => i.args),
    entrypoint: JSON.parse(last('ENTRYPOINT')!) as string[],
    cmd: last('CMD') === undefined ? [] : (JSON.parse(last('CMD')!) as string[]),
    expose: stage.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)),
    copies: stage.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/).pop()!),
  };
}

interface Unpacked {
  dir: string;
  index: { manifests: Array<{ mediaType: string; digest: string; size: number; annotations: Record<string, string> }> };
  manifest: { mediaType: string; config: { mediaType: string; digest: string; size: number }; layers: Array<{ mediaType: string; digest: string; size: number }> };
  docker: Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
  config: { architecture: string; os: string; config: { User?: string; Env: string[]; Entrypoint: string[]; Cmd: string[]; WorkingDir: string; ExposedPorts?: Record<string, object> }; rootfs: { type: string; diff_ids: string[] } };
  /** Each layer unpacked on its own. */
  layers: string[];
  /** All layers unpacked in order: the container's root filesystem. */
  rootfs: string;
  tarSize: number;
}

let work: string;
const built = {} as Record<Component, ReturnType<typeof buildImage>>;
const unpacked = {} as Record<Component, Unpacked>;
const blob = (u: Unpacked, digest: string) => path.join(u.dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
const readJson = <T,>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'llmroute-image-tar-'));
  for (const name of names) {
    built[name] = buildImage(REPO, name, path.join(work, 'out'), path.join(work, 'build'));
    const dir = path.join(work, 'unpacked', name);
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-xf', built[name].file, '-C', dir]);
    const index = readJson<Unpacked['index']>(path.join(dir, 'index.json'));
    const u = { dir, index, docker: readJson<Unpacked['docker']>(path.join(dir, 'manifest.json')), tarSize: statSync(built[name].file).size } as Unpacked;
    u.manifest = readJson(blob(u, index.manifests[0]!.digest));
    u.config = readJson(blob(u, u.manifest.config.digest));
    u.rootfs = path.join(work, 'rootfs', name);
    mkdirSync(u.rootfs, { recursive: true });
    u.layers = u.manifest.layers.map((l, i) => {
      const ld = path.join(work, 'layers', name, String(i));
      mkdirSync(ld, { recursive: true });
      execFileSync('tar', ['-xf', blob(u, l.digest), '-C', ld]);
      execFileSync('tar', ['-xf', blob(u, l.digest), '-C', u.rootfs]);
      return ld;
    });
    unpacked[name] = u;
  }
  const report = new Report();
  for (const name of names) {
    report.figures[name] = { name: built[name].name, tarMB: +(unpacked[name].tarSize / 1e6).toFixed(1), layersMB: unpacked[name].manifest.layers.map((l) => +(l.size / 1e6).toFixed(1)) };
  }
  report.write(path.join(REPO, 'test/images/results'), 'image-sizes');
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each(names)('the %s image tarball', (name) => {
  it('is an OCI image layout and a docker-archive whose blobs are what their digests say', () => {
    const u = unpacked[name];
    expect(readJson(path.join(u.dir, 'oci-layout'))).toEqual({ imageLayoutVersion: '1.0.0' });
    for (const f of readdirSync(path.join(u.dir, 'blobs', 'sha256'))) expect(sha256(path.join(u.dir, 'blobs', 'sha256', f))).toBe(f);
    expect(u.index.manifests).toHaveLength(1);
    const m = u.index.manifests[0]!;
    expect(m.mediaType).toBe(MEDIA.manifest);
    expect(statSync(blob(u, m.digest)).size).toBe(m.size);
    expect(u.manifest.mediaType).toBe(MEDIA.manifest);
    expect(u.manifest.config.mediaType).toBe(MEDIA.config);
    expect(statSync(blob(u, u.manifest.config.digest)).size).toBe(u.manifest.config.size);
    for (const l of u.manifest.layers) {
      expect(l.mediaType).toBe(MEDIA.layer);
      expect(statSync(blob(u, l.digest)).size).toBe(l.size);
    }
    // uncompressed layers: a diff_id is the layer's own digest
    expect(u.config.rootfs).toEqual({ type: 'layers', diff_ids: u.manifest.layers.map((l) => l.digest) });
    expect(u.config).toMatchObject({ architecture: 'amd64', os: 'linux' });
    // the docker-archive view names the same blobs
    expect(u.docker).toEqual([{ Config: `blobs/sha256/${u.manifest.config.digest.slice(7)}`, RepoTags: [chartImageNames(REPO)[name]], Layers: u.manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) }]);
    expect(m.annotations['io.containerd.image.name']).toBe(chartImageNames(REPO)[name]);
  });

  it("is named as the chart's default: <values repository>:<appVersion>", () => {
    const appVersion = /^appVersion:\s*"?([^"\s]+)"?/m.exec(readFileSync(path.join(REPO, 'charts/llmroute/Chart.yaml'), 'utf8'))![1];
    expect(built[name].name).toBe(`ghcr.io/llmroute/${name}:${appVersion}`);
  });

  it("its config says what the Dockerfile's last stage says", () => {
    const want = lastStage(COMPONENTS[name]);
    const c = unpacked[name].config.config;
    expect(c.User).toBe(want.user);
    expect(c.User).toBe('65532:65532');
    expect(c.WorkingDir).toBe(want.workdir);
    expect(c.Entrypoint).toEqual(want.entrypoint);
    expect(c.Cmd).toEqual(want.cmd);
    for (const e of want.env) expect(c.Env).toContain(e);
    // the base image's: node on PATH, its version
    expect(c.Env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(c.Env).toContain(`NODE_VERSION=${process.versions.node}`);
    expect(Object.keys(c.ExposedPorts ?? {}).sort()).toEqual(want.expose.map((p) => `${p}/tcp`).sort());
  });

  it('its app layer holds exactly the files the Dockerfile assembles, owned by root', () => {
    const u = unpacked[name];
    const workdir = lastStage(COMPONENTS[name]).workdir!.replace(/^\//, '');
    expect(readdirSync(u.layers[1]!)).toEqual([workdir]);
    const app = path.join(u.layers[1]!, workdir);
    // the runtime stage's COPY targets: ./node_modules, ./dist, ./ (package.json)
    expect(readdirSync(app).sort()).toEqual(['dist', 'node_modules', 'package.json']);
    expect(lastStage(COMPONENTS[name]).copies.sort()).toEqual(['./', './dist', './node_modules']);
    expect(tree(app)).toEqual(tree(built[name].assembled.root));
    expect(readFileSync(path.join(app, 'package.json'), 'utf8')).toBe(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    for (const layer of u.manifest.layers) {
      const owners = execFileSync('tar', ['-tvf', blob(u, layer.digest), '--numeric-owner'], { encoding: 'utf8', maxBuffer: 1 << 28 })
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[1]);
      expect(new Set(owners)).toEqual(new Set(['0/0']));
    }
  });

  it('its base layer holds this Node and every library ldd lists for it, and a 65532 user', () => {
    const base = unpacked[name].layers[0]!;
    const node = realpathSync(process.execPath);
    expect(sha256(path.join(base, 'usr/local/bin/node'))).toBe(sha256(node));
    for (const lib of sharedLibraries(node)) expect(sha256(path.join(base, lib.path))).toBe(sha256(lib.source));
    expect(readFileSync(path.join(base, 'etc/passwd'), 'utf8')).toMatch(/^nonroot:x:65532:65532:/m);
    expect(statSync(path.join(base, 'tmp')).mode & 0o7777).toBe(0o1777);
  });

  it('its entrypoint runs from the unpacked root filesystem as uid 65532 and prints the version', () => {
    // chroot needs root (the node project runs as root too)
    expect(process.getuid?.()).toBe(0);
    const u = unpacked[name];
    const c = u.config.config;
    // chroot has no working-directory option: the script argument (relative to WorkingDir, where the
    // runtime starts the process) is resolved against it; the rest is the entrypoint as it is.
    const { script } = nodeEntrypoint(readFileSync(path.join(REPO, COMPONENTS[name]), 'utf8'));
    const argv = c.Entrypoint.map((a) => (a === script ? path.posix.join(c.WorkingDir, a) : a));
    const r = spawnSync('chroot', ['--userspec=65532:65532', u.rootfs, ...argv, '--version'], {
      encoding: 'utf8',
      env: Object.fromEntries(c.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      timeout: 30_000,
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout.trim()).toBe(readJson<{ version: string }>(path.join(REPO, 'package.json')).version);
  });
});
