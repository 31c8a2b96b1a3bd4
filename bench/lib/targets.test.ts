import { describe, expect, it } from '@jest/globals';
import { entrypointNodeFlags, imageNodeFlags } from './targets.ts';

describe('entrypointNodeFlags', () => {
  it('takes the flags between node and the script', () => {
    expect(entrypointNodeFlags('FROM x\nENTRYPOINT ["node", "--max-semi-space-size=2", "dist/sidecar/src/cli.js"]\nCMD ["--config", "c"]\n')).toEqual(['--max-semi-space-size=2']);
    expect(entrypointNodeFlags('ENTRYPOINT ["node", "dist/sidecar/src/cli.js"]')).toEqual([]);
  });

  it('refuses what it cannot read, rather than bench a process the image does not run', () => {
    expect(() => entrypointNodeFlags('ENTRYPOINT node dist/cli.js')).toThrow(/exec-form/);
    expect(() => entrypointNodeFlags('ENTRYPOINT ["/bin/sh", "-c", "node x.js"]')).toThrow(/does not start node/);
    expect(() => entrypointNodeFlags('ENTRYPOINT ["node", "--expose-gc"]')).toThrow(/no script/);
  });

  it('reads the sidecar image: the bench runs what ships', () => {
    expect(Array.isArray(imageNodeFlags())).toBe(true);
  });
});
