import type { Hono } from 'hono';
import type { TokenVerifier } from '@chat/shared/auth/verifier';
import { readJson, requireUser, type AppEnv } from '@chat/shared/http/app';
import { buildOpenApi, type RouteDoc } from '@chat/shared/http/openapi';
import { uploadRequest } from './content.ts';
import type { FilesService } from './files.service.ts';

export const openApiInfo = { title: 'Chat file function', version: '1.0.0', serverUrl: '/api/file' };

/** The routes' documentation: served as /openapi.json and written to docs/api/ by `npm run docs`. */
export const docs: RouteDoc[] = [
  { method: 'post', path: '/uploads', summary: 'Start an upload: a presigned PUT to object storage', auth: true, body: uploadRequest, responses: { 201: 'Upload ticket', 400: 'Invalid name, size or type', 404: 'Not a member', 413: 'Over the size limit' } },
  { method: 'post', path: '/uploads/{fileId}/complete', summary: 'Confirm the upload arrived with its declared size', auth: true, responses: { 200: 'The file', 404: 'No such upload', 409: 'Not uploaded yet, or a different size' } },
  { method: 'get', path: '/files/{fileId}', summary: 'A short-lived download URL (and a preview URL for images)', auth: true, responses: { 200: 'URLs and the file', 404: 'No such file, or not a member' } },
];

export function fileRoutes(app: Hono<AppEnv>, deps: { service: FilesService; verifier: TokenVerifier }) {
  const { service, verifier } = deps;
  const auth = requireUser(verifier);

  app.post('/uploads', auth, async (c) => c.json(await service.createUpload(c.var.userId, await readJson(c, uploadRequest)), 201));
  app.post('/uploads/:fileId/complete', auth, async (c) => c.json({ file: await service.complete(c.var.userId, c.req.param('fileId')) }));
  app.get('/files/:fileId', auth, async (c) => c.json(await service.link(c.var.userId, c.req.param('fileId'))));

  const openapi = buildOpenApi(openApiInfo, docs);
  app.get('/openapi.json', (c) => c.json(openapi));
}
