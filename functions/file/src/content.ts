import { z } from 'zod';
import { id } from '@chat/shared/models/validation';

/**
 * What a stored file may be called and how it is served back. The rules live here, apart from
 * HTTP and storage, because they are the security boundary between uploads and the app's origin.
 */

/** Raster formats browsers render as images only; SVG is not one of them (it can carry script). */
export const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * Types that no browser runs as a document, served with their own type (still as attachments).
 * Anything else (HTML, SVG, XML, scripts, unknown) is served as application/octet-stream.
 */
const PASSIVE_TYPE = /^(?:audio\/[\w.+-]+|video\/[\w.+-]+|image\/(?:png|jpeg|gif|webp|avif|bmp|tiff|heic|heif)|text\/(?:plain|csv)|application\/(?:pdf|zip|gzip|x-7z-compressed|x-tar|octet-stream|msword|rtf|vnd\.(?:openxmlformats-officedocument\.[\w.-]+|ms-excel|ms-powerpoint|oasis\.opendocument\.[\w.-]+)))$/;

// Control characters, path separators, and bidi overrides (which make "gpj.exe" look like "exe.jpg").
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f/\\\u202a-\u202e\u2066-\u2069]/;

export const fileName = z
  .string()
  .max(1024)
  .transform((s) => s.normalize('NFC').trim())
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .max(255, 'at most 255 characters')
      .refine((s) => !FORBIDDEN_IN_NAME.test(s), 'must not contain path separators or control characters')
      .refine((s) => s !== '.' && s !== '..', 'is not a file name'),
  );

export const contentType = z
  .string()
  .max(127)
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.string().regex(/^[a-z0-9][\w!#$&^.+-]*\/[a-z0-9][\w!#$&^.+-]*$/, 'must be a media type like "image/png"'));

export const uploadRequest = z.strictObject({
  conversationId: id,
  name: fileName,
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  contentType,
});
export type UploadRequest = z.output<typeof uploadRequest>;

/** An avatar is any image the preview maker reads; it is stored only as its square WebP. */
export const avatarUploadRequest = z.strictObject({
  size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  contentType: contentType.refine((t) => INLINE_IMAGE_TYPES.has(t), 'must be image/png, image/jpeg, image/gif or image/webp'),
});
export type AvatarUploadRequest = z.output<typeof avatarUploadRequest>;

export const isInlineImage = (type: string) => INLINE_IMAGE_TYPES.has(type);

/** The Content-Type a download is served with: its own only when that cannot render as a page. */
export const servedContentType = (type: string) => (PASSIVE_TYPE.test(type) ? type : 'application/octet-stream');

/** RFC 6266 / 5987: an ASCII fallback plus the exact UTF-8 name. */
export function contentDisposition(name: string, inline: boolean): string {
  const fallback = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${inline ? 'inline' : 'attachment'}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
