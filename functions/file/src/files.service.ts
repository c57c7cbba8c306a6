import { randomUUID } from 'node:crypto';
import { errors } from '@chat/shared/errors';
import type { Logger } from '@chat/shared/log';
import type { Attachment, FileLink, UploadTicket } from '@chat/shared/models/types';
import type { ConversationsRepository } from '@chat/shared/repositories/conversations';
import { toAttachment, type FilesRepository } from '@chat/shared/repositories/files';
import type { FileConfig } from './config.ts';
import { contentDisposition, isInlineImage, servedContentType, type UploadRequest } from './content.ts';
import { makePreview, PREVIEW_CONTENT_TYPE } from './preview.ts';
import type { ObjectStorage } from './storage.repository.ts';

type Config = Pick<
  FileConfig,
  'MAX_UPLOAD_BYTES' | 'UPLOAD_URL_TTL_SECONDS' | 'DOWNLOAD_URL_TTL_SECONDS' | 'PENDING_UPLOAD_TTL_SECONDS' | 'PREVIEW_MAX_PX' | 'PREVIEW_MAX_INPUT_PIXELS'
>;

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

/**
 * Uploads go straight from the client to storage with a presigned PUT; this service decides who
 * may upload where, checks what arrived, and hands out short-lived download URLs to members only.
 */
export class FilesService {
  constructor(
    private readonly deps: {
      config: Config;
      files: FilesRepository;
      conversations: ConversationsRepository;
      storage: ObjectStorage;
      log: Logger;
    },
  ) {}

  async createUpload(userId: string, req: UploadRequest): Promise<UploadTicket> {
    const { config, files, conversations, storage } = this.deps;
    if (!(await conversations.findForMember(req.conversationId, userId))) throw errors.notFound('Conversation');
    if (req.size > config.MAX_UPLOAD_BYTES) throw errors.tooLarge(`Files may be at most ${config.MAX_UPLOAD_BYTES} bytes.`);
    // The key never contains the user's file name, so no name can steer where bytes land.
    const file = await files.createPending({ ...req, uploaderId: userId, objectKey: `${req.conversationId}/${randomUUID()}` });
    return {
      fileId: file.id,
      uploadUrl: await storage.presignPut(file.objectKey, config.UPLOAD_URL_TTL_SECONDS),
      method: 'PUT',
      headers: { 'Content-Type': req.contentType },
      expiresAt: inSeconds(config.UPLOAD_URL_TTL_SECONDS),
    };
  }

  async complete(userId: string, fileId: string): Promise<Attachment> {
    const { files, conversations, storage } = this.deps;
    const file = await files.findById(fileId);
    // Only the uploader completes; to anyone else the pending file does not exist.
    if (!file || file.uploaderId !== userId || !(await conversations.findForMember(file.conversationId, userId))) throw errors.notFound('File');
    if (file.status === 'complete') return toAttachment(file);

    const size = await storage.size(file.objectKey);
    if (size === null) throw errors.conflict('Nothing was uploaded for this file yet.');
    if (size !== file.size) {
      // The bytes are not what was declared (and checked against the limit): they are not kept.
      await storage.remove([file.objectKey]);
      throw errors.conflict(`The uploaded size (${size} bytes) differs from the declared size (${file.size} bytes); upload again.`);
    }

    const preview = isInlineImage(file.contentType) ? await this.storePreview(file.objectKey) : null;
    const done = await files.markComplete(file.id, preview);
    if (!done) throw errors.notFound('File');
    return toAttachment(done);
  }

  async link(userId: string, fileId: string): Promise<FileLink> {
    const { config, files, conversations, storage } = this.deps;
    const file = await files.findById(fileId);
    if (!file || file.status !== 'complete' || !(await conversations.findForMember(file.conversationId, userId))) throw errors.notFound('File');
    const ttl = config.DOWNLOAD_URL_TTL_SECONDS;
    const inline = isInlineImage(file.contentType);
    const [url, previewUrl] = await Promise.all([
      storage.presignGet(file.objectKey, ttl, {
        contentType: inline ? file.contentType : servedContentType(file.contentType),
        disposition: contentDisposition(file.name, inline),
      }),
      file.previewKey
        ? storage.presignGet(file.previewKey, ttl, { contentType: PREVIEW_CONTENT_TYPE, disposition: contentDisposition(`${file.name}.webp`, true) })
        : undefined,
    ]);
    return { ...toAttachment(file), url, expiresAt: inSeconds(ttl), ...(previewUrl ? { previewUrl } : {}) };
  }

  /** Deletes uploads never completed within the pending TTL, records first, then their objects. */
  async sweepStalePending(now = new Date()): Promise<number> {
    const { config, files, storage } = this.deps;
    const stale = await files.deleteStalePending(new Date(now.getTime() - config.PENDING_UPLOAD_TTL_SECONDS * 1000));
    await storage.remove(stale.flatMap((f) => [f.objectKey, previewKeyFor(f.objectKey)]));
    return stale.length;
  }

  private async storePreview(objectKey: string): Promise<{ key: string; width: number; height: number } | null> {
    const { config, storage, log } = this.deps;
    const preview = await makePreview(await storage.read(objectKey), { maxPx: config.PREVIEW_MAX_PX, maxInputPixels: config.PREVIEW_MAX_INPUT_PIXELS });
    if (!preview) {
      log.info('no preview: not a readable image', { objectKey });
      return null;
    }
    const key = previewKeyFor(objectKey);
    await storage.write(key, preview.data, PREVIEW_CONTENT_TYPE);
    return { key, width: preview.width, height: preview.height };
  }
}

const previewKeyFor = (objectKey: string) => `${objectKey}.preview.webp`;
