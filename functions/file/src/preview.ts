// Loaded on the first preview, not at start: sharp and its native library are a large part of
// the function's load time, and most requests never make a preview.
let sharpModule: Promise<typeof import('sharp')> | undefined;

export interface PreviewOptions {
  maxPx: number;
  maxInputPixels: number;
}

export const PREVIEW_CONTENT_TYPE = 'image/webp';

/**
 * A small WebP rendition (longest side at most maxPx; never enlarged), first frame only, upright
 * per EXIF and with metadata (GPS and the like) dropped. Null when the bytes are not a readable
 * image: a preview is a convenience, never a reason to refuse the upload.
 */
export async function makePreview(input: Buffer, o: PreviewOptions): Promise<Buffer | null> {
  // Outside the try: a sharp that cannot load is a broken install, not an unreadable image.
  const { default: sharp } = await (sharpModule ??= import('sharp'));
  try {
    return await sharp(input, { limitInputPixels: o.maxInputPixels, animated: false, failOn: 'error' })
      .rotate()
      .resize(o.maxPx, o.maxPx, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 72 })
      .toBuffer();
  } catch {
    return null;
  }
}
