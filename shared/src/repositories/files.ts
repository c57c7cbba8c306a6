import type { Model } from 'mongoose';
import { isValidObjectId } from 'mongoose';
import { errors } from '../errors.ts';
import type { FileDoc } from '../models/schemas.ts';
import type { Attachment } from '../models/types.ts';

export type FileStatus = 'pending' | 'complete';

export interface FileRecord {
  id: string;
  conversationId: string;
  uploaderId: string;
  name: string;
  size: number;
  contentType: string;
  status: FileStatus;
  objectKey: string;
  previewKey: string | null;
  width: number | null;
  height: number | null;
  createdAt: Date;
  completedAt: Date | null;
}

const toRecord = (d: FileDoc): FileRecord => ({
  id: d._id.toString(),
  conversationId: d.conversationId,
  uploaderId: d.uploaderId,
  name: d.name,
  size: d.size,
  contentType: d.contentType,
  status: d.status as FileStatus,
  objectKey: d.objectKey,
  previewKey: d.previewKey ?? null,
  width: d.width ?? null,
  height: d.height ?? null,
  createdAt: new Date(d.createdAt),
  completedAt: d.completedAt ? new Date(d.completedAt) : null,
});

export const toAttachment = (f: Pick<FileRecord, 'id' | 'name' | 'size' | 'contentType' | 'width' | 'height'>): Attachment => ({
  fileId: f.id,
  name: f.name,
  size: f.size,
  contentType: f.contentType,
  width: f.width,
  height: f.height,
});

/** Uploaded files. The object in storage is the bytes; this record says who may see them. */
export class FilesRepository {
  constructor(private readonly model: Model<FileDoc>) {}

  /** Records an upload about to happen. */
  async createPending(input: {
    conversationId: string;
    uploaderId: string;
    name: string;
    size: number;
    contentType: string;
    objectKey: string;
  }): Promise<FileRecord> {
    const d = await this.model.create({ ...input, status: 'pending', previewKey: null, width: null, height: null, createdAt: new Date(), completedAt: null });
    return toRecord(d.toObject() as FileDoc);
  }

  /**
   * Moves a pending file to complete. Returns the record as stored afterwards: when another call
   * completed it first, that call's record (so completing twice is harmless).
   */
  async markComplete(id: string, preview: { key: string; width: number; height: number } | null): Promise<FileRecord | null> {
    if (!isValidObjectId(id)) return null;
    const image = { previewKey: preview?.key ?? null, width: preview?.width ?? null, height: preview?.height ?? null };
    await this.model.updateOne({ _id: id, status: 'pending' }, { $set: { status: 'complete', ...image, completedAt: new Date() } });
    return this.findById(id);
  }

  async findById(id: string): Promise<FileRecord | null> {
    if (!isValidObjectId(id)) return null;
    const d = await this.model.findById(id).lean<FileDoc>();
    return d ? toRecord(d) : null;
  }

  /**
   * The completed files of one conversation among fileIds, in the order asked (duplicates once).
   * Ids that are unknown, pending or of another conversation are simply absent.
   */
  async findCompletedInConversation(fileIds: string[], conversationId: string): Promise<Attachment[]> {
    const ids = [...new Set(fileIds)].filter((id) => isValidObjectId(id));
    if (ids.length === 0) return [];
    // One `_id` read per file in parallel: FerretDB would answer `$in` by reading every file.
    const docs = await Promise.all(ids.map((id) => this.model.findById(id).lean<FileDoc>()));
    return docs
      .filter((d): d is FileDoc => d !== null && d.conversationId === conversationId && d.status === 'complete')
      .map((d) => toAttachment(toRecord(d)));
  }

  /**
   * What the socket gateway's attachment check calls: every id must be a completed file of the
   * conversation, or the whole send is refused with invalid_request.
   */
  async requireCompletedInConversation(fileIds: string[], conversationId: string): Promise<Attachment[]> {
    const found = await this.findCompletedInConversation(fileIds, conversationId);
    if (found.length !== new Set(fileIds).size) throw errors.invalid('attachments: no such completed file in this conversation');
    return found;
  }

  /**
   * Deletes pending records created before olderThan (at most `limit` per call) and returns the
   * ones it deleted, so the caller removes their objects. Each delete is conditional on still
   * being pending, so a file completed meanwhile, or claimed by another instance, is left alone.
   */
  async deleteStalePending(olderThan: Date, limit = 500): Promise<FileRecord[]> {
    const docs = await this.model.find({ status: 'pending', createdAt: { $lt: olderThan } }).limit(limit).lean<FileDoc[]>();
    const deleted: FileRecord[] = [];
    for (const d of docs) {
      const res = await this.model.deleteOne({ _id: d._id, status: 'pending' });
      if (res.deletedCount === 1) deleted.push(toRecord(d));
    }
    return deleted;
  }
}
