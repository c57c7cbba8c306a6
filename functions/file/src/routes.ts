import type { Hono } from 'hono';
import type { TokenVerifier } from '@chat/shared/auth/verifier';
import { errors } from '@chat/shared/errors';
import { readJson, requireUser, type AppEnv } from '@chat/shared/http/app';
import { buildOpenApi, type RouteDoc } from '@chat/shared/http/openapi';
import type { AvatarsService } from './avatars.service.ts';
import { avatarUploadRequest, uploadRequest } from './content.ts';
import type { FilesService } from './files.service.ts';

export const openApiInfo = { title: 'Chat file function', version: '1.0.0', serverUrl: '/api/file' };

/** The routes' documentation: served as /openapi.json and written to docs/api/ by `npm run docs`. */
export const docs: RouteDoc[] = [
  { method: 'post', path: '/uploads', summary: 'Start an upload: a presigned PUT to object storage', auth: true, body: uploadRequest, responses: { 201: 'Upload ticket', 400: 'Invalid name, size or type', 404: 'Not a member', 413: 'Over the size limit' } },
  { method: 'post', path: '/uploads/{fileId}/complete', summary: 'Confirm the upload arrived with its declared size', auth: true, responses: { 200: 'The file', 404: 'No such upload', 409: 'Not uploaded yet, or a different size' } },
  { method: 'post', path: '/avatar', summary: 'Start an avatar upload (an image): a presigned PUT to object storage', auth: true, body: avatarUploadRequest, responses: { 201: 'Upload ticket', 400: 'Not an image type', 413: 'Over the avatar size limit' } },
  { method: 'post', path: '/avatar/{uploadId}/complete', summary: 'Turn the uploaded image into the square WebP avatar; others get user:updated', auth: true, responses: { 200: 'The user with its new avatarUrl', 400: 'Not a readable image', 404: 'No such upload of the caller', 413: 'Over the avatar size limit' } },
  { method: 'get', path: '/avatars/{userId}/{file}', summary: "A user's avatar (the path in User.avatarUrl; unguessable, immutable, no token needed)", responses: { 200: 'image/webp', 404: 'No such avatar' } },
  { method: 'get', path: '/files/{fileId}', summary: 'A short-lived download URL (and a preview URL for images)', auth: true, responses: { 200: 'URLs and the file', 404: 'No such file, or not a member' } },
];

export function fileRoutes(app: Hono<AppEnv>, deps: { service: FilesService; avatars: AvatarsService; verifier: TokenVerifier }) {
  const { service, avatars, verifier } = deps;
  const auth = requireUser(verifier);

  app.post('/uploads', auth, async (c) => c.json(await service.createUpload(c.var.userId, await readJson(c, uploadRequest)), 201));
  app.post('/uploads/:fileId/complete', auth, async (c) => c.json({ file: await service.complete(c.var.userId, c.req.param('fileId')) }));
  app.post('/avatar', auth, async (c) => c.json(await avatars.createUpload(c.var.userId, await readJson(c, avatarUploadRequest)), 201));
  app.post('/avatar/:uploadId/complete', auth, async (c) => c.json({ user: await avatars.complete(c.var.userId, c.req.param('uploadId')) }));
  // Loaded by <img>, which sends no bearer token: the URL is the capability (a random UUID per
  // version, handed out only inside User objects to signed-in users). A new avatar gets a new
  // URL, so one version is cached for good; it is only ever served as WebP, never as a page.
  app.get('/avatars/:userId/:file', async (c) => {
    const data = await avatars.read(c.req.param('userId'), c.req.param('file'));
    if (!data) throw errors.notFound('Avatar');
    return c.body(new Uint8Array(data), 200, {
      'content-type': 'image/webp',
      'cache-control': 'public, max-age=31536000, immutable',
      'content-security-policy': "default-src 'none'; sandbox",
      'cross-origin-resource-policy': 'same-origin',
    });
  });
  app.get('/files/:fileId', auth, async (c) => c.json(await service.link(c.var.userId, c.req.param('fileId'))));

  const openapi = buildOpenApi(openApiInfo, docs);
  app.get('/openapi.json', (c) => c.json(openapi));
}
