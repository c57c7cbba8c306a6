import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { ROOT } from '../stack/paths.ts';
import type { K8sObject } from './kustomize.ts';

/**
 * Validates objects against the Kubernetes API schemas offline: built-in kinds with the JSON
 * schemas kubernetes-models compiles from the Kubernetes OpenAPI spec, OpenFaaS Functions with
 * the CRD's own openAPIV3Schema (k8s/schemas). A kind with no schema is an error, never a pass.
 * Limits: like `kubectl --validate=false`, unknown fields are not reported (the schemas allow
 * additional properties); the reviewer tests check the fields that matter by name.
 */
const functionSchema = JSON.parse(readFileSync(path.join(ROOT, 'k8s/schemas/openfaas.com_functions.v1.json'), 'utf8')) as Record<string, unknown>;
delete functionSchema.$comment;
/** The API server prunes fields a CRD schema does not name; here they are reported instead. */
function closeObjects(schema: unknown): void {
  if (!schema || typeof schema !== 'object') return;
  const s = schema as Record<string, unknown>;
  if (s.properties && s.additionalProperties === undefined && !s['x-kubernetes-preserve-unknown-fields']) s.additionalProperties = false;
  for (const v of Object.values(s)) closeObjects(v);
}
closeObjects((functionSchema.properties as Record<string, unknown>).spec);
const validateFunction = new Ajv({ strict: false, allErrors: true, formats: { int32: true, int64: true, 'date-time': true } }).compile(functionSchema);

type Model = new (data: unknown) => { validate(): void };

async function model(apiVersion: string, kind: string): Promise<Model | null> {
  // core kinds live under kubernetes-models/v1, the others under kubernetes-models/<group>/<version>
  const specifier = ['kubernetes-models', apiVersion, kind].join('/');
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as Record<string, Model>;
    return mod[kind] ?? null;
  } catch {
    return null;
  }
}

/** Problems with one object, as "<kind>/<name>: <message>" lines; empty when valid. */
export async function validateObject(o: K8sObject): Promise<string[]> {
  const id = `${o.kind}/${o.metadata?.name ?? '?'}`;
  if (!o.apiVersion || !o.kind || !o.metadata?.name) return [`${id}: apiVersion, kind and metadata.name are required`];
  if (o.apiVersion === 'openfaas.com/v1' && o.kind === 'Function') {
    if (validateFunction(o)) return [];
    return (validateFunction.errors ?? []).map((e) => `${id}: ${e.instancePath} ${e.message}`);
  }
  const M = await model(o.apiVersion, o.kind);
  if (!M) return [`${id}: no schema for ${o.apiVersion} ${o.kind}`];
  try {
    new M(o).validate();
    return [];
  } catch (e) {
    return [`${id}: ${(e as Error).message}`];
  }
}

export async function validateAll(objects: K8sObject[]): Promise<string[]> {
  return (await Promise.all(objects.map(validateObject))).flat();
}
