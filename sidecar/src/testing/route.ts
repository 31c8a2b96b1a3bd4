// Builds runtime routes from config YAML for unit tests.
import { parseConfig } from '../config/load-config.ts';
import type { Route, RuntimeConfig } from '../config/runtime-config.ts';

export function configFrom(yamlText: string, env: NodeJS.ProcessEnv = {}): RuntimeConfig {
  return parseConfig(yamlText, '/nonexistent', env).config;
}

/** A route named `r` with the given targets (YAML flow lines) and extra route fields. */
export function routeWith(targets: string[], extra = ''): Route {
  const text = `routes:\n- name: r\n  targets:\n${targets.map((t) => `  - ${t}`).join("\n")}\n  ${extra}`;
  return configFrom(text).routes[0]!;
}
