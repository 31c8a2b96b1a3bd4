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
import { commandLine } from '../../../common/cli-flags.ts';
import { runCommand } from '../../../common/process-main.ts';
import { parseInjectArgs, runInject, USAGE } from './inject-command.ts';
import { packageVersion } from '../../../common/version.ts';

async function main(): Promise<number> {
  const cmd = commandLine('llmroute-inject', USAGE, () => parseInjectArgs(process.argv.slice(2), process.env, packageVersion()), packageVersion);
  if ('exit' in cmd) return cmd.exit;
  const { args } = cmd;
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

runCommand('llmroute-inject', main, 'when-idle');
