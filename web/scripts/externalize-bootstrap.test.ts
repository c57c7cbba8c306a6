import { describe, expect, it } from 'vitest';
import { externalize } from './externalize-bootstrap.mjs';

const page = (script: string) => `<!doctype html><html><head></head><body><div class="app-root">
			<script>${script}</script>
		</div></body></html>`;
const bootstrap = `
				{
					__sveltekit_abc = { base: "" };
					const element = document.currentScript.parentElement;
					Promise.all([import("/_app/immutable/entry/start.X.js"), import("/_app/immutable/entry/app.Y.js")]).then(([kit, app]) => kit.start(app, element));
				}`;

describe('externalize-bootstrap', () => {
  it('moves the inline bootstrap into a content-named file beside the entry points, as a classic script in the same place', () => {
    const { html, files } = externalize(page(bootstrap)) as { html: string; files: { url: string; code: string }[] };
    expect(files).toHaveLength(1);
    expect(files[0]!.url).toMatch(/^\/_app\/immutable\/bootstrap\.[0-9a-f]{12}\.js$/);
    expect(files[0]!.code.trim()).toBe(bootstrap.trim());
    // Classic and parser-inserted: document.currentScript must be the tag, inside the mount point.
    expect(html).toContain(`<div class="app-root">\n\t\t\t<script src="${files[0]!.url}"></script>`);
    expect(html).not.toMatch(/<script>/);
    // The same bootstrap always gets the same name (cacheable as immutable); another, another.
    expect((externalize(page(bootstrap)) as { files: { url: string }[] }).files[0]!.url).toBe(files[0]!.url);
    expect((externalize(page(bootstrap.replace('abc', 'abd'))) as { files: { url: string }[] }).files[0]!.url).not.toBe(files[0]!.url);
  });

  it('refuses an inline script it does not recognise rather than guessing', () => {
    expect(() => externalize(page('alert(1)'))).toThrow(/not the SvelteKit bootstrap/);
  });

  it('leaves a page without inline script unchanged', () => {
    const html = '<html><body><script src="/a.js"></script></body></html>';
    expect(externalize(html)).toEqual({ html, files: [] });
  });
});
