#!/usr/bin/env node
/**
 * llmroute-sidecar: the process edge. Parses the command line, loads the
 * config (an invalid one is a clear error and exit code 2), starts the
 * sidecar, and drains on SIGTERM/SIGINT (exit 0).
 */
import { commandLine, EXIT_USAGE } from '../../common/cli-flags.ts';
import { runCommand, untilStopSignal } from '../../common/process-main.ts';
import { parseArgs, USAGE } from './args.ts';
import { ConfigError } from './errors.ts';
import { loadConfig } from './config/load-config.ts';
import { createLogger } from '../../common/log.ts';
import { startSidecar } from './sidecar.ts';
import { packageVersion } from '../../common/version.ts';

async function main(): Promise<number> {
  const cmd = commandLine('llmroute-sidecar', USAGE, () => parseArgs(process.argv.slice(2), process.env), packageVersion);
  if ('exit' in cmd) return cmd.exit;
  const { args } = cmd;

  const log = createLogger(args.logLevel ?? 'info');
  let initial;
  try {
    initial = loadConfig(args.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error('invalid config', { file: args.config, problems: err.problems });
      process.stderr.write(`llmroute-sidecar: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (args.logLevel) initial.config.logLevel = undefined; // the flag wins over the file
  else if (initial.config.logLevel) log.level = initial.config.logLevel;

  let sidecar;
  try {
    sidecar = await startSidecar({ configPath: args.config, initial, log, host: args.host, port: args.port, adminPort: args.adminPort });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    log.error('cannot start', { error: e.message, code: e.code });
    process.stderr.write(`llmroute-sidecar: cannot start: ${e.message}\n`);
    return 1;
  }

  // A failed drain still exits 0: the requests it could finish are finished.
  return untilStopSignal(log, () => sidecar.drain().then(() => 0), 0);
}

const crashLog = createLogger('error', undefined, 'sidecar');
process.on('uncaughtException', (err) => {
  // Log and stay up: one broken request must not take the pod's LLM access down.
  crashLog.error('uncaught exception', { error: err.message });
});

runCommand('llmroute-sidecar', main);
