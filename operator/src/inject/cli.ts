#!/usr/bin/env node
/**
 * llmroute-inject: adds the llmroute sidecar to manifests without the
 * webhook (GitOps pipelines, clusters without admission webhooks, a look at
 * what the webhook would do).
 *
 *   kubectl kustomize overlays/prod | llmroute-inject | kubectl apply -f -
 *   llmroute-inject --all -f deploy.yaml > deploy.injected.yaml
 *
 * Reads YAML or JSON (multi-document) from stdin or -f, writes YAML to
 * stdout. Pod specs whose labels have llmroute.dev/inject: "true" get the
 * sidecar (all of them with --all); the pod annotations llmroute.dev/* apply
 * as with the webhook, and an injected template carries the status
 * annotation, so the webhook leaves its pods alone. A refused pod spec (bad
 * annotation, conflict) is an error: nothing is written, exit code 1.
 */
import { readFileSync } from 'node:fs';
import { InjectUsageError, parseInjectArgs, runInject, USAGE, type InjectArgs } from './inject-command.ts';
import { packageVersion } from '../../../common/version.ts';

async function main(): Promise<number> {
  let args: InjectArgs;
  try {
    args = parseInjectArgs(process.argv.slice(2), process.env, packageVersion());
  } catch (err) {
    if (err instanceof InjectUsageError) {
      process.stderr.write(`llmroute-inject: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  let input: string;
  try {
    input = args.file ? readFileSync(args.file, 'utf8') : readFileSync(0, 'utf8');
  } catch (err) {
    process.stderr.write(`llmroute-inject: cannot read ${args.file ?? 'stdin'}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return 1;
  }
  const r = runInject(input, args);
  process.stdout.write(r.stdout);
  if (r.code !== 0 || !args.quiet) process.stderr.write(r.stderr);
  return r.code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`llmroute-inject: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
