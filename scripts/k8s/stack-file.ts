import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../stack/paths.ts';

/** The parts of an OpenFaaS stack file (faas-cli's schema) this project uses. */
export interface StackFunction {
  lang: string;
  handler: string;
  image: string;
  fprocess?: string;
  environment?: Record<string, string | number | boolean>;
  secrets?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  limits?: { memory?: string; cpu?: string };
  requests?: { memory?: string; cpu?: string };
  constraints?: string[];
  readonly_root_filesystem?: boolean;
}

export interface StackFile {
  version: string | number;
  provider: { name: string; gateway: string };
  configuration?: { templates?: Array<{ name: string; source?: string }>; copy?: string[] };
  functions: Record<string, StackFunction>;
}

export const STACK_FILE = path.join(ROOT, 'stack.yml');

export function readStackFile(file = STACK_FILE): StackFile {
  const doc = parse(readFileSync(file, 'utf8')) as StackFile;
  if (doc?.provider?.name !== 'openfaas') throw new Error(`${file}: provider.name must be openfaas`);
  if (!doc.functions || typeof doc.functions !== 'object') throw new Error(`${file}: no functions`);
  return doc;
}
