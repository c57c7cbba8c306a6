import { createHash } from 'node:crypto';

/**
 * Where `npm start` keeps a checkout's data, outside `.local` too: its PostgreSQL database (FerretDB's
 * store), its RabbitMQ vhost and its Redis key prefix. Each is named after the checkout's absolute
 * path, so two clones on one machine never open each other's data, and `npm run reset` knows
 * exactly what is its own to delete.
 */
export const checkoutId = (root: string): string => createHash('sha256').update(root).digest('hex').slice(0, 10);

export interface DevNames {
  /** PostgreSQL database FerretDB uses (lower case: PostgreSQL folds unquoted names). */
  database: string;
  vhost: string;
  redisPrefix: string;
}

export function devNames(root: string): DevNames {
  const id = checkoutId(root);
  return { database: `chat_dev_${id}`, vhost: `chat-dev-${id}`, redisPrefix: `chat-dev-${id}:` };
}

/** Marks a data directory whose database was created with it (see stack.ts). */
export const DATABASE_MARKER = 'postgres-database';

export interface ResetArgs {
  yes: boolean;
}

/** `npm run reset [-- --yes]`; anything else is a usage error, so a typo never skips the question. */
export function parseResetArgs(argv: readonly string[]): ResetArgs | { error: string } {
  let yes = false;
  for (const a of argv) {
    if (a === '--yes' || a === '-y') yes = true;
    else return { error: `unknown argument "${a}"; usage: npm run reset [-- --yes]` };
  }
  return { yes };
}

/** Only an explicit yes deletes: the default of the y/N question is no. */
export const isYes = (answer: string): boolean => /^\s*(y|yes)\s*$/i.test(answer);

/**
 * What to do before deleting: go ahead (--yes), ask (a terminal), or refuse (no terminal to ask
 * on and no --yes, e.g. a script), so nothing is wiped without someone saying so.
 */
export function confirmation(args: ResetArgs, isTTY: boolean): 'proceed' | 'ask' | 'refuse' {
  if (args.yes) return 'proceed';
  return isTTY ? 'ask' : 'refuse';
}
