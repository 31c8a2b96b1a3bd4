import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { instructions, nodeEntrypoint } from './dockerfile.ts';

describe('instructions', () => {
  it('joins continued lines (runs of spaces become one), drops comments and blank lines, upper-cases the op', () => {
    expect(instructions('# a comment\nfrom node:24 AS build\n\nRUN npm ci \\\n  --omit=dev\n')).toEqual([
      { op: 'FROM', args: 'node:24 AS build' },
      { op: 'RUN', args: 'npm ci --omit=dev' },
    ]);
  });
});

describe('nodeEntrypoint', () => {
  it('takes the flags between node and the script', () => {
    expect(nodeEntrypoint('FROM x\nENTRYPOINT ["node", "--max-semi-space-size=2", "dist/sidecar/src/cli.js"]\nCMD ["--config", "c"]\n')).toEqual({ flags: ['--max-semi-space-size=2'], script: 'dist/sidecar/src/cli.js' });
    expect(nodeEntrypoint('ENTRYPOINT ["node", "dist/sidecar/src/cli.js"]')).toEqual({ flags: [], script: 'dist/sidecar/src/cli.js' });
  });

  it('refuses what it cannot read, rather than bench a process the image does not run', () => {
    expect(() => nodeEntrypoint('ENTRYPOINT node dist/cli.js')).toThrow(/exec-form/);
    expect(() => nodeEntrypoint('FROM x')).toThrow(/exec-form/);
    expect(() => nodeEntrypoint('ENTRYPOINT ["/bin/sh", "-c", "node x.js"]')).toThrow(/does not start node/);
    expect(() => nodeEntrypoint('ENTRYPOINT ["node", "--expose-gc"]')).toThrow(/no script/);
  });

  it('reads the sidecar image', () => {
    const dockerfile = readFileSync(fileURLToPath(new URL('../sidecar/Dockerfile', import.meta.url)), 'utf8');
    expect(nodeEntrypoint(dockerfile).script).toBe('dist/sidecar/src/cli.js');
  });
});
