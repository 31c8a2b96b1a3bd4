/**
 * Keeps the sidecar on the newest valid config. Watches the config file's
 * folder (the kubelet swaps a `..data` symlink there; a rename or an
 * overwrite by hand counts too) and also re-reads on a timer, in case an
 * event is missed. A config that fails to load is refused whole: the last
 * good one stays, the error is logged and counted once per distinct error.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from './errors.ts';
import { loadConfig, type LoadedConfig } from './config/load-config.ts';

export interface WatcherEvents {
  onReload: (loaded: LoadedConfig) => void;
  onError: (err: ConfigError) => void;
}

export class ConfigWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private fingerprint: string;
  private lastError: string | undefined;
  private readonly path: string;
  private readonly events: WatcherEvents;
  private readonly env: NodeJS.ProcessEnv;

  constructor(path: string, initial: LoadedConfig, events: WatcherEvents, env: NodeJS.ProcessEnv = process.env) {
    this.path = resolve(path);
    this.fingerprint = initial.fingerprint;
    this.events = events;
    this.env = env;
  }

  start(intervalMs = 1000): void {
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, () => this.soon());
      this.watcher.on('error', () => undefined); // the timer still covers us
    } catch {
      // A folder we cannot watch: the timer alone re-reads it.
    }
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.timer);
    clearTimeout(this.debounce);
  }

  /** Coalesces a burst of file events (a symlink swap makes several). */
  private soon(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.check(), 50);
    this.debounce.unref();
  }

  /** Re-reads the config now; applies it when it changed and is valid. */
  check(): void {
    let loaded: LoadedConfig;
    try {
      loaded = loadConfig(this.path, this.env);
    } catch (err) {
      const e = err instanceof ConfigError ? err : new ConfigError([String(err)], this.path);
      if (e.message !== this.lastError) {
        this.lastError = e.message;
        this.events.onError(e);
      }
      return;
    }
    this.lastError = undefined;
    if (loaded.fingerprint === this.fingerprint) return;
    this.fingerprint = loaded.fingerprint;
    this.events.onReload(loaded);
  }
}
