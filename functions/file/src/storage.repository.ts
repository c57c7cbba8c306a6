import * as Minio from 'minio';
import { errors } from '@chat/shared/errors';

export interface StorageOptions {
  /** Where this function reaches MinIO. */
  endpoint: string;
  /** The origin browsers use; presigned URLs are signed for it. */
  publicUrl: string;
  bucket: string;
  region: string;
  accessKey: string;
  secretKey: string;
}

const clientFor = (url: string, o: StorageOptions) => {
  const u = new URL(url);
  const useSSL = u.protocol === 'https:';
  return new Minio.Client({
    endPoint: u.hostname,
    port: u.port ? Number(u.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: o.accessKey,
    secretKey: o.secretKey,
    // A fixed region means presigning never asks the server for the bucket's location.
    region: o.region,
    pathStyle: true,
  });
};

const NOT_FOUND = new Set(['NotFound', 'NoSuchKey', 'NoSuchObject']);
const isNotFound = (e: unknown) => typeof e === 'object' && e !== null && NOT_FOUND.has(String((e as { code?: unknown }).code));

/** Storage that does not answer is an outage (503), not a bug in the request (500). */
async function guard<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    const code = String((e as { code?: unknown })?.code ?? '');
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|UND_ERR_\w+)$/.test(code) || (e instanceof TypeError && /fetch/i.test(e.message)))
      throw errors.unavailable(`Object storage is unreachable (${what}); retry shortly.`, e);
    throw e;
  }
}

/**
 * The bucket of uploaded bytes. Two clients: one talks to MinIO, the other only signs URLs for
 * the public origin (it never opens a connection).
 */
export class ObjectStorage {
  private readonly s3: Minio.Client;
  private readonly signer: Minio.Client;

  constructor(private readonly o: StorageOptions) {
    this.s3 = clientFor(o.endpoint, o);
    this.signer = clientFor(o.publicUrl, o);
  }

  /** Creates the (private: no bucket policy) bucket when missing; safe to race with other instances. */
  async ensureBucket(): Promise<void> {
    await guard('ensure bucket', async () => {
      if (await this.s3.bucketExists(this.o.bucket)) return;
      try {
        await this.s3.makeBucket(this.o.bucket, this.o.region);
      } catch (e) {
        const code = String((e as { code?: unknown }).code);
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw e;
      }
    });
  }

  /**
   * Objects under the prefix are deleted by the store itself this many days after they were
   * written (the bucket's lifecycle: this is its only rule, set again at every start).
   */
  async expireUnder(prefix: string, days: number): Promise<void> {
    await guard('set lifecycle', () =>
      this.s3.setBucketLifecycle(this.o.bucket, { Rule: [{ ID: `expire-${prefix.replace(/\W+/g, '-').replace(/-$/, '')}`, Status: 'Enabled', Filter: { Prefix: prefix }, Expiration: { Days: days } }] }),
    );
  }

  async ping(): Promise<void> {
    if (!(await guard('ping', () => this.s3.bucketExists(this.o.bucket)))) throw new Error(`bucket ${this.o.bucket} is missing`);
  }

  presignPut(key: string, ttlSeconds: number): Promise<string> {
    return this.signer.presignedUrl('PUT', this.o.bucket, key, ttlSeconds);
  }

  /** A GET whose response headers are fixed by the signature, not by what the uploader sent. */
  presignGet(key: string, ttlSeconds: number, response: { contentType: string; disposition: string }): Promise<string> {
    return this.signer.presignedGetObject(this.o.bucket, key, ttlSeconds, {
      'response-content-type': response.contentType,
      'response-content-disposition': response.disposition,
      'response-cache-control': 'private, max-age=300',
    });
  }

  /** The stored object's size, or null when nothing was uploaded under the key. */
  async size(key: string): Promise<number | null> {
    return guard('stat', async () => {
      try {
        return (await this.s3.statObject(this.o.bucket, key)).size;
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    });
  }

  async read(key: string): Promise<Buffer> {
    return guard('read', async () => {
      const stream = await this.s3.getObject(this.o.bucket, key);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    });
  }

  async write(key: string, body: Buffer, contentType: string): Promise<void> {
    await guard('write', () => this.s3.putObject(this.o.bucket, key, body, body.length, { 'Content-Type': contentType }));
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await guard('remove', () => this.s3.removeObjects(this.o.bucket, keys));
  }
}
