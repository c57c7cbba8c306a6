import { describe, expect, it } from 'vitest';
import { contentDisposition, fileName, isInlineImage, servedContentType, uploadRequest } from './content.ts';

describe('fileName', () => {
  it.each(['report.pdf', 'Ünïcødé – résumé.docx', 'a', 'x'.repeat(255), '  padded.txt  '])('accepts %j', (n) => {
    expect(fileName.safeParse(n).success).toBe(true);
  });
  it.each(['', '   ', 'x'.repeat(256), '../etc/passwd', 'a/b', 'a\\b', 'nul\u0000.txt', 'line\nbreak', '..', '.', 'inv\u202Egpj.exe', 'del\u007f'])(
    'refuses %j',
    (n) => {
      expect(fileName.safeParse(n).success).toBe(false);
    },
  );
  it('trims and normalizes to NFC', () => {
    expect(fileName.parse('  e\u0301.txt ')).toBe('\u00e9.txt');
  });
});

describe('uploadRequest', () => {
  it('lower-cases the content type and refuses junk or extra keys', () => {
    expect(uploadRequest.parse({ conversationId: 'abc', name: 'a.png', size: 1, contentType: 'Image/PNG' }).contentType).toBe('image/png');
    expect(uploadRequest.safeParse({ conversationId: 'abc', name: 'a.png', size: 1, contentType: 'not a type' }).success).toBe(false);
    expect(uploadRequest.safeParse({ conversationId: 'abc', name: 'a.png', size: 1.5, contentType: 'image/png' }).success).toBe(false);
    expect(uploadRequest.safeParse({ conversationId: 'abc', name: 'a.png', size: -1, contentType: 'image/png' }).success).toBe(false);
    expect(uploadRequest.safeParse({ conversationId: 'abc', name: 'a.png', size: 1, contentType: 'image/png', extra: 1 }).success).toBe(false);
  });
});

describe('serving', () => {
  it('renders only raster images inline, never SVG', () => {
    expect(['image/png', 'image/jpeg', 'image/gif', 'image/webp'].every(isInlineImage)).toBe(true);
    expect(isInlineImage('image/svg+xml')).toBe(false);
    expect(isInlineImage('text/html')).toBe(false);
  });

  it('serves active types as octet-stream so they cannot render as a page', () => {
    for (const t of ['text/html', 'image/svg+xml', 'application/xhtml+xml', 'text/xml', 'application/xml', 'text/javascript', 'application/x-unknown'])
      expect(servedContentType(t)).toBe('application/octet-stream');
    for (const t of ['image/png', 'application/pdf', 'text/plain', 'video/mp4', 'audio/mpeg', 'application/zip']) expect(servedContentType(t)).toBe(t);
  });

  it('writes an RFC 6266 disposition with an ASCII fallback and the exact UTF-8 name', () => {
    expect(contentDisposition('résumé "v2".pdf', false)).toBe(`attachment; filename="resume _v2_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf`);
    expect(contentDisposition("it's (1).png", true)).toBe(`inline; filename="it's (1).png"; filename*=UTF-8''it%27s%20%281%29.png`);
  });
});
