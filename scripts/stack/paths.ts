import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project folders the stack uses; everything under .local is git-ignored. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const LOCAL = path.join(ROOT, '.local');
export const BIN = path.join(LOCAL, 'bin');
export const BUILD = path.join(LOCAL, 'build');
export const SECRETS = path.join(LOCAL, 'secrets');
export const DATA = path.join(LOCAL, 'data');
export const RUN = path.join(LOCAL, 'run');
