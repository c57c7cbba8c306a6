import { inject } from 'vitest';
import type { ProcAction } from '../scripts/stack/procs.ts';
import type { Stack } from '../scripts/stack/stack.ts';

/** What a test file knows of the stack its project started (see stack.setup.ts). */
export interface StackInfo {
  baseUrl: string;
  ports: Stack['ports'];
  env: Record<string, string>;
  /** Where FerretDB keeps the data in PostgreSQL (null on sqlite or an external PostgreSQL URL). */
  postgres: { database: string; schema: string } | null;
  controlUrl: string;
  logFile: string;
  /** The ingress's access log (the chaos stack writes one): `$msec $status $method $uri $upstream_addr $upstream_status` per line. */
  accessLog: string | null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export const stack = (): StackInfo => inject('stack');

/** Kills (SIGKILL), stops (SIGTERM), starts, freezes (SIGSTOP) or thaws (SIGCONT) one of the stack's processes by name. */
export async function controlProc(name: string, action: ProcAction): Promise<void> {
  const res = await fetch(`${stack().controlUrl}/procs/${name}/${action}`, { method: 'POST' });
  if (res.status !== 204) throw new Error(`${action} ${name}: ${res.status} ${await res.text()}`);
}
