import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makePreview } from './preview.ts';

const image = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();

describe('makePreview', () => {
  it('shrinks the longest side to the limit, keeping the aspect ratio, as WebP', async () => {
    const out = (await makePreview(await image(1600, 800), { maxPx: 320, maxInputPixels: 1e8 }))!;
    const meta = await sharp(out.data).metadata();
    expect(meta.format).toBe('webp');
    expect([meta.width, meta.height]).toEqual([320, 160]);
    expect([out.width, out.height]).toEqual([1600, 800]);
  });

  it("reports the original's size upright, sides swapped for a quarter-turn EXIF orientation", async () => {
    const sideways = await sharp(await image(300, 100)).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const out = (await makePreview(sideways, { maxPx: 320, maxInputPixels: 1e8 }))!;
    expect([out.width, out.height]).toEqual([100, 300]);
    const meta = await sharp(out.data).metadata();
    expect([meta.width, meta.height]).toEqual([100, 300]);
  });

  it('never enlarges a small image', async () => {
    const meta = await sharp((await makePreview(await image(100, 50), { maxPx: 320, maxInputPixels: 1e8 }))!.data).metadata();
    expect([meta.width, meta.height]).toEqual([100, 50]);
  });

  it('gives null for bytes that are not an image, or an image over the pixel limit', async () => {
    expect(await makePreview(Buffer.from('<html>not an image</html>'), { maxPx: 320, maxInputPixels: 1e8 })).toBeNull();
    expect(await makePreview(await image(2000, 2000), { maxPx: 320, maxInputPixels: 1_000_000 })).toBeNull();
  });
});
