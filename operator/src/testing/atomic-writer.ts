/**
 * For e2e tests without a kubelet: lays files out in a folder the way the
 * kubelet's atomic writer does for ConfigMap, Secret and projected volumes:
 *
 *   ..2025_06_01_12_00_00.123456789/   the payload of one version
 *   ..data -> ..2025_06_01_...          swapped by rename(2) on each update
 *   config.yaml -> ..data/config.yaml   one top-level link per file
 *
 * An update writes a fresh timestamped folder, points a new `..data_tmp`
 * link at it and renames that over `..data` (atomic), then adds links for
 * new files, drops links of removed files and deletes the old folder.
 */
import { mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { basename, join } from 'node:path';

function timestampPrefix(now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

export function writeAtomically(dir: string, files: Record<string, string | Buffer>, now = new Date()): void {
  for (const name of Object.keys(files)) {
    if (!name || name.includes('/') || name.startsWith('..')) throw new Error(`atomic writer: bad file name '${name}'`);
  }
  let oldTarget: string | undefined;
  try {
    oldTarget = readlinkSync(join(dir, '..data'));
  } catch {
    oldTarget = undefined;
  }
  const payload = mkdtempSync(join(dir, timestampPrefix(now)));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(payload, name), content, { mode: 0o644 });
  const tmp = join(dir, '..data_tmp');
  rmSync(tmp, { force: true });
  symlinkSync(basename(payload), tmp);
  renameSync(tmp, join(dir, '..data'));
  const wanted = new Set(Object.keys(files));
  for (const name of wanted) {
    try {
      lstatSync(join(dir, name));
    } catch {
      symlinkSync(join('..data', name), join(dir, name));
    }
  }
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('..') || wanted.has(entry)) continue;
    rmSync(join(dir, entry), { force: true });
  }
  if (oldTarget) rmSync(join(dir, oldTarget), { recursive: true, force: true });
}
