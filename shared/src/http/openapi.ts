import { z } from 'zod';

/**
 * A small OpenAPI 3.1 builder: routes are described with the same zod schemas that validate them,
 * so the document cannot drift from what the code accepts.
 */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  auth?: boolean;
  responses: Record<number, string>;
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
};

const jsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

export function buildOpenApi(info: { title: string; version: string; serverUrl: string }, routes: RouteDoc[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const oaPath = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    // Route docs may write a parameter either way (:id as Hono does, {id} as OpenAPI does).
    const params = [...oaPath.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (r.query) {
      const qs = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(qs.properties ?? {}))
        params.push({ name, in: 'query', required: qs.required?.includes(name) ?? false, schema } as never);
    }
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(r.responses)) {
      responses[status] = Number(status) >= 400 ? { description, content: { 'application/json': { schema: errorSchema } } } : { description };
    }
    (paths[oaPath] ??= {})[r.method] = {
      summary: r.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } } : {}),
      ...(r.auth ? { security: [{ bearer: [] }] } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version },
    servers: [{ url: info.serverUrl }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
