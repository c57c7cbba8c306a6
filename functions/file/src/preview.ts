// Loaded on the first preview, not at start: sharp and its native library are a large part of
// the function's load time, and most requests never make a preview.
let sharpModule: Promise<typeof import('sharp')> | undefined;

export interface PreviewOptions {
  maxPx: number;
  maxInputPixels: number;
  /** An avatar: exactly maxPx × maxPx, cropped to the centre (and enlarged when smaller). */
  square?: boolean;
}

export const PREVIEW_CONTENT_TYPE = 'image/webp';

export interface Preview {
  data: Buffer;
  /** The original image's size, upright (as the preview shows it), for clients to reserve its box. */
  width: number;
  height: number;
}

/**
 * A small WebP rendition (longest side at most maxPx; never enlarged), first frame only, upright
 * per EXIF and with metadata (GPS and the like) dropped, with the original's upright size. Null
 * when the bytes are not a readable image: a preview is a convenience, never a reason to refuse
 * the upload.
 */
export async function makePreview(input: Buffer, o: PreviewOptions): Promise<Preview | null> {
  // Outside the try: a sharp that cannot load is a broken install, not an unreadable image.
  const { default: sharp } = await (sharpModule ??= import('sharp'));
  try {
    const image = sharp(input, { limitInputPixels: o.maxInputPixels, animated: false, failOn: 'error' });
    const meta = await image.metadata();
    if (!meta.width || !meta.height) return null;
    // EXIF orientations 5 to 8 turn the picture a quarter, swapping its sides.
    const turned = (meta.orientation ?? 1) >= 5;
    const fit = o.square ? ({ fit: 'cover' } as const) : ({ fit: 'inside', withoutEnlargement: true } as const);
    const data = await image.rotate().resize(o.maxPx, o.maxPx, fit).webp({ quality: 72 }).toBuffer();
    return { data, width: turned ? meta.height : meta.width, height: turned ? meta.width : meta.height };
  } catch {
    return null;
  }
}
