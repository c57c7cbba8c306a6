/**
 * Renders stack.yml as OpenFaaS Function resources (openfaas.com/v1) into k8s/base/functions/,
 * field for field what `faas-cli generate` produces: name, image, environment, labels,
 * annotations, limits, requests, constraints, secrets, readOnlyRootFilesystem, with map keys
 * sorted. faas-cli cannot be installed here; where it can, `faas-cli generate -f stack.yml`
 * must print the same resources (docs/deploy.md). A unit test fails when the committed files
 * are out of date.
 *
 * Usage: tsx scripts/k8s/generate-functions.ts
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ROOT } from '../stack/paths.ts';
import { readStackFile, STACK_FILE, type StackFunction } from './stack-file.ts';

export const FUNCTIONS_DIR = path.join(ROOT, 'k8s/base/functions');
export const FUNCTION_NAMESPACE = 'openfaas-fn';

const HEADER = '# Generated from stack.yml by scripts/k8s/generate-functions.ts (what `faas-cli generate` renders). Do not edit.\n';

const sorted = <V>(m: Record<string, V> | undefined): Record<string, string> | undefined =>
  m && Object.keys(m).length ? Object.fromEntries(Object.keys(m).sort().map((k) => [k, String(m[k])])) : undefined;

const resources = (r: StackFunction['limits']) => (r ? { memory: r.memory ?? '', cpu: r.cpu ?? '' } : undefined);

export function functionResource(name: string, fn: StackFunction, namespace = FUNCTION_NAMESPACE) {
  const spec: Record<string, unknown> = {
    name,
    image: fn.image,
    environment: sorted(fn.environment),
    labels: sorted(fn.labels),
    annotations: sorted(fn.annotations),
    limits: resources(fn.limits),
    requests: resources(fn.requests),
    constraints: fn.constraints?.length ? fn.constraints : undefined,
    secrets: fn.secrets?.length ? fn.secrets : undefined,
    readOnlyRootFilesystem: fn.readonly_root_filesystem || undefined,
  };
  for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
  return { apiVersion: 'openfaas.com/v1', kind: 'Function', metadata: { name, namespace }, spec };
}

/** File name → content, for every function of the stack file plus the kustomization listing them. */
export function renderFunctions(stackFile = STACK_FILE): Record<string, string> {
  const stack = readStackFile(stackFile);
  const names = Object.keys(stack.functions).sort();
  const files: Record<string, string> = {};
  for (const name of names) files[`${name}.yaml`] = HEADER + '---\n' + stringify(functionResource(name, stack.functions[name]!), { indent: 2, lineWidth: 0 });
  files['kustomization.yaml'] =
    HEADER +
    stringify(
      {
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        // For installs with the Function CRD (OpenFaaS operator mode): `kubectl apply -k k8s/base/functions`.
        // Without it, `faas-cli deploy -f stack.yml` deploys the same functions through the gateway.
        namespace: FUNCTION_NAMESPACE,
        resources: names.map((n) => `${n}.yaml`),
      },
      { indent: 2 },
    );
  return files;
}

export function writeFunctions(dir = FUNCTIONS_DIR, stackFile = STACK_FILE): string[] {
  mkdirSync(dir, { recursive: true });
  const files = renderFunctions(stackFile);
  for (const f of readdirSync(dir)) if (f.endsWith('.yaml') && !(f in files)) rmSync(path.join(dir, f));
  for (const [f, content] of Object.entries(files)) writeFileSync(path.join(dir, f), content);
  return Object.keys(files);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of writeFunctions()) console.log(path.relative(process.cwd(), path.join(FUNCTIONS_DIR, f)));
}
