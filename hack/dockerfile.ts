/**
 * Reads the project's Dockerfiles: their instructions, and the node flags
 * and script of an exec-form ENTRYPOINT. The image test checks the files
 * with it, and the bench starts the sidecar with the image's node flags.
 */

export interface Instruction {
  /** The instruction, upper-cased: FROM, COPY, ENTRYPOINT... */
  op: string;
  args: string;
}

/** Instructions in order; line continuations joined, comments and blank lines dropped. */
export function instructions(dockerfile: string): Instruction[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

/** The node flags and the script of an exec-form ENTRYPOINT that starts node. Throws for any other ENTRYPOINT. */
export function nodeEntrypoint(dockerfile: string): { flags: string[]; script: string } {
  const args = instructions(dockerfile).find((i) => i.op === 'ENTRYPOINT')?.args;
  let argv: unknown;
  try {
    argv = args === undefined ? undefined : JSON.parse(args);
  } catch {
    argv = undefined;
  }
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new Error('the Dockerfile has no exec-form ENTRYPOINT');
  if (argv[0] !== 'node') throw new Error(`the ENTRYPOINT does not start node: ${argv.join(' ')}`);
  const script = argv.findIndex((a, i) => i > 0 && !a.startsWith('-'));
  if (script === -1) throw new Error('the ENTRYPOINT names no script');
  return { flags: argv.slice(1, script), script: argv[script]! };
}
