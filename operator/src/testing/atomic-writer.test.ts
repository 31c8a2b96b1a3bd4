import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAtomically } from './atomic-writer.ts';

describe('writeAtomically (the kubelet layout)', () => {
  it('writes a timestamped payload, a ..data link and top-level links, and swaps them on update', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-'));
    try {
      writeAtomically(dir, { 'config.yaml': 'v1', key1: 'a' }, new Date('2025-06-01T12:00:00Z'));
      const first = readlinkSync(join(dir, '..data'));
      expect(first).toMatch(/^\.\.2025_06_01_12_00_00\./);
      expect(readlinkSync(join(dir, 'config.yaml'))).toBe('..data/config.yaml');
      expect(readFileSync(join(dir, 'key1'), 'utf8')).toBe('a');

      writeAtomically(dir, { 'config.yaml': 'v2', key2: 'b' }, new Date('2025-06-01T12:00:01Z'));
      const second = readlinkSync(join(dir, '..data'));
      expect(second).not.toBe(first);
      expect(existsSync(join(dir, first))).toBe(false);
      expect(readFileSync(join(dir, 'config.yaml'), 'utf8')).toBe('v2');
      expect(existsSync(join(dir, 'key1'))).toBe(false);
      expect(readdirSync(dir).sort()).toEqual(['..data', second, 'config.yaml', 'key2'].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
