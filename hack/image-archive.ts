/**
 * Container images as tarballs, without a Docker engine or a registry:
 * layers written as uncompressed tars, an OCI image config and manifest,
 * and one archive that is both an OCI image layout (oci-layout, index.json,
 * blobs/sha256/…) and a docker-archive (manifest.json naming the same
 * blobs), which `ctr -n k8s.io images import`, `docker load`, `kind load
 * image-archive` and `k3d image import` all read.
 *
 * Layer contents are given as entries (a folder, a file from disk, a file's
 * bytes, a symlink); every entry is owned by root with a fixed mtime, as a
 * Dockerfile's COPY without --chown leaves them, so the same inputs give the
 * same digests.
 */
import { mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { TarWriter } from './tar-writer.ts';

export type LayerEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; mode: number; source: string }
  | { path: string; type: 'file'; mode: number; data: Buffer }
  | { path: string; type: 'symlink'; target: string };

export interface ImageConfig {
  user?: string;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workdir: string;
  exposedPorts: string[];
  labels?: Record<string, string>;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface WrittenImage {
  name: string;
  file: string;
  /** The archive's own size in bytes. */
  size: number;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** Every folder above an archive path, outermost first: "a/b/c" → ["a", "a/b"]. */
function parents(p: string): string[] {
  const parts = p.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** The entries of a folder on disk, placed under `at` in the image (files keep their mode bits, symlinks their target). */
export function folderEntries(dir: string, at: string): LayerEntry[] {
  const out: LayerEntry[] = [{ path: at, type: 'dir', mode: 0o755 }];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const src = path.join(dir, e.name);
    const dest = `${at}/${e.name}`;
    if (e.isSymbolicLink()) out.push({ path: dest, type: 'symlink', target: readlinkSync(src) });
    else if (e.isDirectory()) out.push(...folderEntries(src, dest));
    else if (e.isFile()) out.push({ path: dest, type: 'file', mode: statSync(src).mode & 0o777, source: src });
  }
  return out;
}

/** Writes one layer tar to `file`; returns its digest and size. Folders above each entry are added once, first. */
function writeLayer(file: string, entries: LayerEntry[]): Descriptor {
  const tar = new TarWriter(file);
  const seen = new Set<string>();
  const dir = (p: string, mode = 0o755): void => {
    if (seen.has(p)) return;
    seen.add(p);
    tar.add({ name: p, type: 'dir', mode });
  };
  for (const e of entries) {
    const p = e.path.replace(/^\/+/, '').replace(/\/+$/, '');
    for (const parent of parents(p)) dir(parent);
    if (e.type === 'dir') dir(p, e.mode);
    else if (e.type === 'symlink') tar.add({ name: p, type: 'symlink', mode: 0o777, linkname: e.target });
    else if ('data' in e) tar.add({ name: p, type: 'file', mode: e.mode }, e.data);
    else tar.addFile({ name: p, type: 'file', mode: e.mode }, e.source, statSync(e.source).size);
  }
  const { sha256, size } = tar.close();
  return { mediaType: MEDIA.layer, digest: `sha256:${sha256}`, size };
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const describe = (mediaType: string, b: Buffer): Descriptor => ({ mediaType, digest: `sha256:${createHash('sha256').update(b).digest('hex')}`, size: b.length });
const blobPath = (d: Descriptor): string => `blobs/sha256/${d.digest.slice('sha256:'.length)}`;

/**
 * Writes the image `name` (e.g. ghcr.io/llmroute/sidecar:0.1.0) with these
 * layers, bottom first, to `file`. `created` is an ISO date (fixed, for
 * reproducible digests).
 */
export function writeImageArchive(opts: { name: string; file: string; layers: LayerEntry[][]; config: ImageConfig; created: string; history: string[] }): WrittenImage {
  const staging = mkdtempSync(`${opts.file}.layers-`);
  try {
    const layerFiles = opts.layers.map((_, i) => path.join(staging, `layer-${i}.tar`));
    const layers = opts.layers.map((entries, i) => writeLayer(layerFiles[i]!, entries));
    const c = opts.config;
    const config = json({
      created: opts.created,
      architecture: 'amd64',
      os: 'linux',
      config: {
        ...(c.user ? { User: c.user } : {}),
        Env: c.env,
        Entrypoint: c.entrypoint,
        Cmd: c.cmd,
        WorkingDir: c.workdir,
        ...(c.exposedPorts.length ? { ExposedPorts: Object.fromEntries(c.exposedPorts.map((p) => [p, {}])) } : {}),
        ...(c.labels ? { Labels: c.labels } : {}),
      },
      // Uncompressed layers: each one's diff_id is its digest.
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      history: opts.history.map((created_by) => ({ created: opts.created, created_by })),
    });
    const configDesc = describe(MEDIA.config, config);
    const manifest = json({ schemaVersion: 2, mediaType: MEDIA.manifest, config: configDesc, layers });
    const manifestDesc = describe(MEDIA.manifest, manifest);
    const [repo, tag] = splitName(opts.name);
    const index = json({
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: [{ ...manifestDesc, platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'io.containerd.image.name': opts.name, 'org.opencontainers.image.ref.name': tag } }],
    });
    const dockerManifest = json([{ Config: blobPath(configDesc), RepoTags: [`${repo}:${tag}`], Layers: layers.map(blobPath) }]);

    const tmp = `${opts.file}.tmp`;
    const out = new TarWriter(tmp);
    out.add({ name: 'blobs', type: 'dir', mode: 0o755 });
    out.add({ name: 'blobs/sha256', type: 'dir', mode: 0o755 });
    const written = new Set<string>();
    layers.forEach((l, i) => {
      if (written.has(l.digest)) return;
      written.add(l.digest);
      out.addFile({ name: blobPath(l), type: 'file', mode: 0o644 }, layerFiles[i]!, l.size);
    });
    out.add({ name: blobPath(configDesc), type: 'file', mode: 0o644 }, config);
    out.add({ name: blobPath(manifestDesc), type: 'file', mode: 0o644 }, manifest);
    out.add({ name: 'oci-layout', type: 'file', mode: 0o644 }, json({ imageLayoutVersion: '1.0.0' }));
    out.add({ name: 'index.json', type: 'file', mode: 0o644 }, index);
    out.add({ name: 'manifest.json', type: 'file', mode: 0o644 }, dockerManifest);
    const { size } = out.close();
    // renamed into place, so a reader never sees half an archive
    renameSync(tmp, opts.file);
    return { name: opts.name, file: opts.file, size, manifest: manifestDesc, config: configDesc, layers };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** "ghcr.io/llmroute/sidecar:0.1.0" → ["ghcr.io/llmroute/sidecar", "0.1.0"]; no tag: latest. */
export function splitName(name: string): [string, string] {
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? [name.slice(0, colon), name.slice(colon + 1)] : [name, 'latest'];
}
