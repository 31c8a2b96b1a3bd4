/**
 * The sidecar's command line (SPEC section 4). Pure: argv and env in,
 * options or a usage error out.
 */
import { parseFlags, parseLogLevel, parsePort, UsageError, type FlagHandler } from '../../common/cli-flags.ts';
import type { LogLevel } from '../../common/log.ts';
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from '../../api/v1alpha1/enums.ts';

export { UsageError };

export interface SidecarArgs {
  config: string;
  host?: string | undefined;
  port?: number | undefined;
  adminPort?: number | undefined;
  logLevel?: LogLevel | undefined;
  help: boolean;
  version: boolean;
}

export const USAGE = `usage: llmroute-sidecar --config PATH [--host H] [--port N] [--admin-port N] [--log-level L]

  --config PATH     the config file (or LLMROUTE_CONFIG)
  --host H          API address (default from the config, else ${DEFAULT_LISTEN.host})
  --port N          API port (default from the config, else ${DEFAULT_LISTEN.port})
  --admin-port N    admin port for /metrics /healthz /readyz (default ${DEFAULT_ADMIN.port})
  --log-level L     debug | info | warn | error (default info)
  --help, --version
`;

type Parsed = Partial<SidecarArgs> & { help: boolean; version: boolean };

const FLAGS: Readonly<Record<string, FlagHandler<Parsed>>> = {
  '--config': (out, value) => (out.config = value()),
  '--host': (out, value) => (out.host = value()),
  '--port': (out, value, _, flag) => (out.port = parsePort(flag, value())),
  '--admin-port': (out, value, _, flag) => (out.adminPort = parsePort(flag, value())),
  '--log-level': (out, value, _, flag) => (out.logLevel = parseLogLevel(flag, value())),
};

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv): SidecarArgs {
  const out = parseFlags<Parsed>(argv, FLAGS, { help: false, version: false });
  out.config ??= env.LLMROUTE_CONFIG;
  if (!out.config && !out.help && !out.version) throw new UsageError('--config PATH (or LLMROUTE_CONFIG) is required');
  return out as SidecarArgs;
}
