/**
 * llmroute-inject's command: its arguments and the text-in, text-out run.
 * Pure; cli.ts is the process around it.
 */
import yaml from 'js-yaml';
import { parseFlags, type FlagHandler } from '../../../common/cli-flags.ts';
import { injectManifests } from './manifests.ts';
import { DEFAULT_IMAGE_REPOSITORY } from './options.ts';

export const USAGE = `usage: llmroute-inject [--image IMAGE] [--all] [-f FILE] [--quiet]

  --image IMAGE  the sidecar image (default $LLMROUTE_SIDECAR_IMAGE, else ${DEFAULT_IMAGE_REPOSITORY}:<version>)
  --all          inject every pod spec, not only those labelled llmroute.dev/inject: "true"
  -f FILE        read FILE instead of stdin (YAML or JSON, multi-document)
  --quiet        no summary on stderr
  --help, --version
`;

export interface InjectArgs {
  image: string;
  all: boolean;
  file: string | undefined;
  quiet: boolean;
  help: boolean;
  version: boolean;
}

const FLAGS: Readonly<Record<string, FlagHandler<InjectArgs>>> = {
  '--image': (out, value) => (out.image = value()),
  '--filename': (out, value) => (out.file = value()),
  '-f': (out, value) => (out.file = value()),
  '--all': (out) => (out.all = true),
  '--quiet': (out) => (out.quiet = true),
  '-q': (out) => (out.quiet = true),
};

export function parseInjectArgs(argv: readonly string[], env: NodeJS.ProcessEnv, version: string): InjectArgs {
  const out: InjectArgs = {
    image: env.LLMROUTE_SIDECAR_IMAGE || `${DEFAULT_IMAGE_REPOSITORY}:${version}`,
    all: false,
    file: undefined,
    quiet: false,
    help: false,
    version: false,
  };
  return parseFlags(argv, FLAGS, out);
}

/** The whole program but the process: text in, text out. */
export function runInject(input: string, args: Pick<InjectArgs, 'image' | 'all'>): { code: number; stdout: string; stderr: string } {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(input, undefined, { schema: yaml.CORE_SCHEMA }).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    const mark = (err as { mark?: { line: number; column: number } }).mark;
    return { code: 1, stdout: '', stderr: `llmroute-inject: the input is not YAML or JSON${mark ? ` (line ${mark.line + 1}, column ${mark.column + 1})` : ''}\n` };
  }
  const { docs: out, report } = injectManifests(docs, { image: args.image, requireLabel: !args.all });
  if (report.errors.length) {
    return { code: 1, stdout: '', stderr: report.errors.map((e) => `llmroute-inject: ${e}\n`).join('') };
  }
  const stdout = out.map((d) => yaml.dump(d, { lineWidth: -1, noRefs: true })).join('---\n');
  const lines = [
    ...report.warnings.map((w) => `warning: ${w}`),
    `llmroute-inject: injected ${report.injected.length} pod spec(s)${report.injected.length ? `: ${report.injected.join(', ')}` : ''}`,
  ];
  return { code: 0, stdout, stderr: lines.map((l) => `${l}\n`).join('') };
}

