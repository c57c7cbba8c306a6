import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../stack/paths.ts';
import { ensureTool } from '../stack/tools.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [k: string]: unknown;
}

/** The real kustomize (built once from the Go module proxy into .local/bin, like FerretDB). */
export async function ensureKustomize(log: (m: string) => void = () => undefined): Promise<string> {
  return ensureTool('kustomize', log);
}

/** `kustomize build <dir>` (dir relative to the repo root), parsed into objects. */
export async function kustomizeBuild(dir: string): Promise<K8sObject[]> {
  const bin = await ensureKustomize();
  const { stdout } = await promisify(execFile)(bin, ['build', path.join(ROOT, dir)], { maxBuffer: 32 * 1024 * 1024 });
  return parseYamlDocs(stdout);
}

export function parseYamlDocs(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw d.errors[0]!;
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}
