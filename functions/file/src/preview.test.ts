import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makePreview } from './preview.ts';

const image = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();

describe('makePreview', () => {
  it('shrinks the longest side to the limit, keeping the aspect ratio, as WebP', async () => {
    const out = (await makePreview(await image(1600, 800), { maxPx: 320, maxInputPixels: 1e8 }))!;
    const meta = await sharp(out).metadata();
    expect(meta.format).toBe('webp');
    expect([meta.width, meta.height]).toEqual([320, 160]);
  });

  it('never enlarges a small image', async () => {
    const meta = await sharp((await makePreview(await image(100, 50), { maxPx: 320, maxInputPixels: 1e8 }))!).metadata();
    expect([meta.width, meta.height]).toEqual([100, 50]);
  });

  it('gives null for bytes that are not an image, or an image over the pixel limit', async () => {
    expect(await makePreview(Buffer.from('<html>not an image</html>'), { maxPx: 320, maxInputPixels: 1e8 })).toBeNull();
    expect(await makePreview(await image(2000, 2000), { maxPx: 320, maxInputPixels: 1_000_000 })).toBeNull();
  });
});
