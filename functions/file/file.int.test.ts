import { randomBytes } from 'node:crypto';
import * as Minio from 'minio';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSecret } from '@chat/shared/config';
import { createLogger } from '@chat/shared/log';
import type { Attachment, AuthSession } from '@chat/shared/models/types';
import { ConversationsRepository } from '@chat/shared/repositories/conversations';
import { FilesRepository } from '@chat/shared/repositories/files';
import { api, registerUser } from '../../test/api.ts';
import { closeTestDb, createConversation, testDb } from '../../test/db.ts';
import { stack } from '../../test/stack.ts';
import { loadFileConfig } from './src/config.ts';
import { FilesService } from './src/files.service.ts';
import { ObjectStorage } from './src/storage.repository.ts';

const F = '/api/file';
let alice: AuthSession;
let bob: AuthSession;
let outsider: AuthSession;
let convId: string;
let otherConvId: string;

const secret = (name: string) => readSecret(name, { SECRETS_DIR: stack().env.SECRETS_DIR });
const minio = () => {
  const u = new URL(stack().env.S3_ENDPOINT!);
  return new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey: secret('minio-access-key'), secretKey: secret('minio-secret-key'), region: 'us-east-1' });
};
const objectExists = async (key: string) =>
  minio()
    .statObject(stack().env.S3_BUCKET!, key)
    .then(
      () => true,
      (e) => (e.code === 'NotFound' ? false : Promise.reject(e)),
    );
const objectKeyOf = async (fileId: string) => (await (await testDb()).models.File.findById(fileId).lean())!.objectKey;

async function startUpload(s: AuthSession, name: string, bytes: Buffer | number, contentType = 'application/octet-stream', conversationId = convId) {
  const size = typeof bytes === 'number' ? bytes : bytes.length;
  return api('POST', `${F}/uploads`, { token: s.accessToken, body: { conversationId, name, size, contentType } });
}
const put = (ticket: { uploadUrl: string; headers: Record<string, string> }, bytes: Buffer) =>
  fetch(ticket.uploadUrl, { method: 'PUT', headers: ticket.headers, body: new Uint8Array(bytes) });
const complete = (s: AuthSession, fileId: string) => api('POST', `${F}/uploads/${fileId}/complete`, { token: s.accessToken, body: {} });

/** Upload + complete, asserting each step. */
async function uploadFile(s: AuthSession, name: string, bytes: Buffer, contentType: string) {
  const start = await startUpload(s, name, bytes, contentType);
  expect(start.status).toBe(201);
  expect((await put(start.body, bytes)).status).toBe(200);
  const done = await complete(s, start.body.fileId);
  expect(done.status).toBe(200);
  return done.body.file as Attachment;
}

beforeAll(async () => {
  [alice, bob, outsider] = await Promise.all([registerUser(), registerUser(), registerUser()]);
  convId = (await createConversation('group', [alice.user.id, bob.user.id], 'Files')).id;
  otherConvId = (await createConversation('direct', [alice.user.id, outsider.user.id])).id;
});
afterAll(() => closeTestDb());

describe('upload, complete, download', () => {
  it('uploads through the ingress with the presigned PUT and serves the same bytes to another member', async () => {
    const bytes = randomBytes(300_000);
    const start = await startUpload(alice, 'Report – Q3 (final).pdf', bytes, 'application/pdf');
    expect(start.status).toBe(201);
    expect(start.body).toEqual({ fileId: expect.any(String), uploadUrl: expect.any(String), method: 'PUT', headers: { 'Content-Type': 'application/pdf' }, expiresAt: expect.any(String) });
    // Same origin as the app: the browser never needs MinIO's own port.
    expect(start.body.uploadUrl.startsWith(`${stack().baseUrl}/${stack().env.S3_BUCKET}/`)).toBe(true);
    expect(Date.parse(start.body.expiresAt)).toBeGreaterThan(Date.now());

    expect((await put(start.body, bytes)).status).toBe(200);
    const done = await complete(alice, start.body.fileId);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ file: { fileId: start.body.fileId, name: 'Report – Q3 (final).pdf', size: bytes.length, contentType: 'application/pdf', width: null, height: null } });
    // Completing again is harmless.
    expect((await complete(alice, start.body.fileId)).body).toEqual(done.body);

    const link = await api('GET', `${F}/files/${start.body.fileId}`, { token: bob.accessToken });
    expect(link.status).toBe(200);
    expect(link.body).toMatchObject({ ...done.body.file, url: expect.any(String), expiresAt: expect.any(String) });
    expect(link.body.previewUrl).toBeUndefined();
    expect(link.body.url.startsWith(`${stack().baseUrl}/`)).toBe(true);
    const expiresIn = Date.parse(link.body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(15 * 60_000);

    const download = await fetch(link.body.url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="Report _ Q3 (final).pdf"; filename*=UTF-8''Report%20%E2%80%93%20Q3%20%28final%29.pdf`);
    // MinIO sends its own nosniff too; browsers read the first value.
    expect(download.headers.get('x-content-type-options')).toMatch(/^nosniff\b/);
  });

  it('a changed signature or path is refused by storage', async () => {
    const bytes = randomBytes(1000);
    const start = await startUpload(alice, 'a.bin', bytes);
    const tampered = start.body.uploadUrl.replace(/\/([^/?]+)\?/, '/other-object?');
    expect((await fetch(tampered, { method: 'PUT', body: new Uint8Array(bytes) })).status).toBe(403);
  });

  it('completed files are what the gateway may attach: same conversation only, never pending ones', async () => {
    const file = await uploadFile(alice, 'notes.txt', Buffer.from('hello'), 'text/plain');
    const pending = (await startUpload(alice, 'later.txt', 5)).body.fileId;
    const repo = new FilesRepository((await testDb()).models.File);
    expect(await repo.findCompletedInConversation([file.fileId, pending, 'nonsense'], convId)).toEqual([file]);
    expect(await repo.findCompletedInConversation([file.fileId], otherConvId)).toEqual([]);
    await expect(repo.requireCompletedInConversation([file.fileId, pending], convId)).rejects.toMatchObject({ code: 'invalid_request' });
    expect(await repo.requireCompletedInConversation([file.fileId, file.fileId], convId)).toEqual([file]);
  });
});

describe('who may see what', () => {
  let fileId: string;
  beforeAll(async () => {
    fileId = (await uploadFile(alice, 'secret.txt', Buffer.from('for members only'), 'text/plain')).fileId;
  });

  it('an outsider gets 404 for the file, the conversation and the upload', async () => {
    const link = await api('GET', `${F}/files/${fileId}`, { token: outsider.accessToken });
    expect(link.status).toBe(404);
    expect(link.body.error.code).toBe('not_found');
    expect((await startUpload(outsider, 'x.txt', 3)).status).toBe(404);
    expect((await complete(outsider, fileId)).status).toBe(404);
    expect((await api('GET', `${F}/files/${fileId}`)).status).toBe(401);
  });

  it('a pending file has no download, and only its uploader may complete it', async () => {
    const start = await startUpload(alice, 'pending.txt', 4, 'text/plain');
    expect((await api('GET', `${F}/files/${start.body.fileId}`, { token: alice.accessToken })).status).toBe(404);
    expect((await complete(bob, start.body.fileId)).status).toBe(404);
  });
});

describe('bad uploads get the contract errors and change nothing', () => {
  it('refuses a declared size over the limit with 413', async () => {
    const res = await startUpload(alice, 'huge.iso', 25 * 1024 * 1024 + 1);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect((await startUpload(alice, 'just-fits.iso', 25 * 1024 * 1024)).status).toBe(201);
  });

  it.each([['../../etc/passwd'], ['dir/file.txt'], ['dir\\file.txt'], [''], ['   '], ['x'.repeat(256)], ['bell\u0007.txt'], ['new\nline.txt'], ['..']])(
    'refuses the name %j with 400',
    async (name) => {
      const res = await startUpload(alice, name, 10);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    },
  );

  it('refuses a bad content type or size with 400', async () => {
    expect((await startUpload(alice, 'a.txt', 10, 'text')).status).toBe(400);
    expect((await api('POST', `${F}/uploads`, { token: alice.accessToken, body: { conversationId: convId, name: 'a', size: '10', contentType: 'text/plain' } })).status).toBe(400);
  });

  it('a size lie is 409 and the stored object is deleted', async () => {
    const start = await startUpload(alice, 'lie.bin', 10);
    expect((await put(start.body, randomBytes(5000))).status).toBe(200);
    const key = await objectKeyOf(start.body.fileId);
    expect(await objectExists(key)).toBe(true);
    const res = await complete(alice, start.body.fileId);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect(await objectExists(key)).toBe(false);
    expect((await api('GET', `${F}/files/${start.body.fileId}`, { token: alice.accessToken })).status).toBe(404);
  });

  it('completing before the upload is 409; after the real upload it succeeds', async () => {
    const bytes = randomBytes(64);
    const start = await startUpload(alice, 'early.bin', bytes);
    const early = await complete(alice, start.body.fileId);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('conflict');
    await put(start.body, bytes);
    expect((await complete(alice, start.body.fileId)).status).toBe(200);
  });
});

describe('serving', () => {
  it('an HTML upload downloads as an attachment and never renders as a page', async () => {
    const html = Buffer.from('<!doctype html><script>alert(document.cookie)</script>');
    const file = await uploadFile(alice, 'page.html', html, 'text/html');
    const link = await api('GET', `${F}/files/${file.fileId}`, { token: bob.accessToken });
    const res = await fetch(link.body.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('x-content-type-options')).toMatch(/^nosniff\b/);
    expect(res.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(Buffer.from(await res.arrayBuffer()).equals(html)).toBe(true);
  });

  it('an SVG is an attachment too (it can carry script)', async () => {
    const file = await uploadFile(alice, 'logo.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'), 'image/svg+xml');
    const link = await api('GET', `${F}/files/${file.fileId}`, { token: alice.accessToken });
    expect(link.body.previewUrl).toBeUndefined();
    const res = await fetch(link.body.url);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
  });

  it('an image is inline and gets a ~320 px WebP preview that is smaller than the original', async () => {
    const png = await sharp(randomBytes(1200 * 800 * 3), { raw: { width: 1200, height: 800, channels: 3 } }).png().toBuffer();
    const file = await uploadFile(alice, 'photo.png', png, 'image/png');
    // The original's size, so clients reserve the image's box before it loads; stored with the
    // record, so the download link and the attachment the gateway puts in messages carry it too.
    expect([file.width, file.height]).toEqual([1200, 800]);
    const link = await api('GET', `${F}/files/${file.fileId}`, { token: bob.accessToken });
    expect(link.status).toBe(200);
    expect(link.body).toMatchObject({ width: 1200, height: 800 });
    expect(link.body.previewUrl).toEqual(expect.any(String));
    const repo = new FilesRepository((await testDb()).models.File);
    expect(await repo.requireCompletedInConversation([file.fileId], convId)).toEqual([file]);

    const original = await fetch(link.body.url);
    expect(original.headers.get('content-type')).toBe('image/png');
    expect(original.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(Buffer.from(await original.arrayBuffer()).equals(png)).toBe(true);

    const preview = await fetch(link.body.previewUrl);
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('image/webp');
    const bytes = Buffer.from(await preview.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe('webp');
    expect([meta.width, meta.height]).toEqual([320, 213]);
    expect(bytes.length).toBeLessThan(png.length / 10);
  });

  it('an "image" that is not one still completes, without a preview', async () => {
    const file = await uploadFile(alice, 'fake.png', Buffer.from('not really a png'), 'image/png');
    expect([file.width, file.height]).toEqual([null, null]);
    const link = await api('GET', `${F}/files/${file.fileId}`, { token: alice.accessToken });
    expect(link.status).toBe(200);
    expect(link.body.previewUrl).toBeUndefined();
  });
});

describe('pending-upload sweep', () => {
  it('deletes uploads left pending for more than a day, record and object, and keeps fresh ones', async () => {
    const bytes = randomBytes(100);
    const [stale, fresh] = [await startUpload(alice, 'stale.bin', bytes), await startUpload(alice, 'fresh.bin', bytes)];
    await put(stale.body, bytes);
    const db = await testDb();
    await db.models.File.updateOne({ _id: stale.body.fileId }, { $set: { createdAt: new Date(Date.now() - 25 * 3600_000) } });
    const staleKey = await objectKeyOf(stale.body.fileId);

    const config = loadFileConfig(stack().env);
    const service = new FilesService({
      config,
      files: new FilesRepository(db.models.File),
      conversations: new ConversationsRepository(db.models.Conversation),
      storage: new ObjectStorage({ endpoint: config.S3_ENDPOINT, publicUrl: config.PUBLIC_URL, bucket: config.S3_BUCKET, region: config.S3_REGION, accessKey: secret('minio-access-key'), secretKey: secret('minio-secret-key') }),
      log: createLogger('test'),
    });
    expect(await service.sweepStalePending()).toBeGreaterThanOrEqual(1);
    expect(await db.models.File.findById(stale.body.fileId).lean()).toBeNull();
    expect(await objectExists(staleKey)).toBe(false);
    expect(await db.models.File.findById(fresh.body.fileId).lean()).not.toBeNull();
    expect((await complete(alice, stale.body.fileId)).status).toBe(404);
  });
});

describe('avatar uploads never completed', () => {
  it('expire in the store a day after they were written (the bucket lifecycle the function sets)', async () => {
    const config = await minio().getBucketLifecycle(stack().env.S3_BUCKET!);
    // The client parses a single rule as an object, several as an array.
    expect([config?.Rule].flat()).toEqual([expect.objectContaining({ Status: 'Enabled', Filter: expect.objectContaining({ Prefix: 'avatar-uploads/' }), Expiration: expect.objectContaining({ Days: 1 }) })]);
  });
});
