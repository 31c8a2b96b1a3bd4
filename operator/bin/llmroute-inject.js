#!/usr/bin/env node
// Runs the built injector (npm run build), or the TypeScript source directly on Node 24.
import { existsSync } from 'node:fs';
const built = new URL('../../dist/operator/src/inject/cli.js', import.meta.url);
await import(existsSync(built) ? built.href : new URL('../src/inject/cli.ts', import.meta.url).href);
