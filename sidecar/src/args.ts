/**
 * The sidecar's command line (SPEC section 4). Pure: argv and env in,
 * options or a usage error out.
 */
import { forEachFlag, parseLogLevel, parsePort, UsageError } from '../../common/cli-flags.ts';
import type { LogLevel } from '../../common/log.ts';

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
  --host H          API address (default from the config, else 127.0.0.1)
  --port N          API port (default from the config, else 4000)
  --admin-port N    admin port for /metrics /healthz /readyz (default 4001)
  --log-level L     debug | info | warn | error (default info)
  --help, --version
`;

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv): SidecarArgs {
  const out: Partial<SidecarArgs> = { help: false, version: false };
  forEachFlag(argv, (arg, next) => {
    switch (arg) {
      case '--config':
        out.config = next();
        break;
      case '--host':
        out.host = next();
        break;
      case '--port':
        out.port = parsePort(arg, next());
        break;
      case '--admin-port':
        out.adminPort = parsePort(arg, next());
        break;
      case '--log-level':
        out.logLevel = parseLogLevel(arg, next());
        break;
      case '-h':
      case '--help':
        out.help = true;
        break;
      case '--version':
        out.version = true;
        break;
      default:
        throw new UsageError(`unknown argument '${arg}'`);
    }
  });
  out.config ??= env.LLMROUTE_CONFIG;
  if (!out.config && !out.help && !out.version) throw new UsageError('--config PATH (or LLMROUTE_CONFIG) is required');
  return out as SidecarArgs;
}

