import createDOMPurify, { type DOMPurify, type WindowLike } from 'dompurify';
import { createMarkdown, parseBody } from '@chat/shared/markdown/markdown';

export { stripMarkdown } from '@chat/shared/markdown/markdown';

/**
 * A message body as HTML: the shared Markdown subset (@chat/shared/markdown/markdown, raw HTML
 * and images off), then DOMPurify with an allow-list of exactly the tags that subset emits. The
 * parser alone already escapes everything else; the sanitizer is there so that a parser bug or
 * a rule enabled later cannot put script, event handlers or foreign tags into the page.
 * Components load this module through markdown-loader.svelte.ts, never statically.
 */

const TAGS = ['p', 'br', 'strong', 'em', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a'];
/** `start` numbers an ordered list that begins at 3; no class, style or id from a message. */
const ATTRS = ['href', 'target', 'rel', 'start'];
const SAFE_URL = /^(?:https?:|mailto:)/i;
/** Links open elsewhere without a handle on this window, a referrer, or SEO credit. */
export const LINK_REL = 'noopener noreferrer nofollow';

export type RenderMarkdown = (body: string) => string;

/** A renderer bound to one window's DOMPurify (the browser's, or jsdom's in unit tests). */
export function createRenderer(window: WindowLike): RenderMarkdown {
  const purify: DOMPurify = createDOMPurify(window);
  const md = createMarkdown();
  md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
    tokens[idx]!.attrSet('target', '_blank');
    tokens[idx]!.attrSet('rel', LINK_REL);
    return self.renderToken(tokens, idx, options);
  };
  // Whatever reaches the output as a link carries them, even if the parser did not put it there.
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', LINK_REL);
    }
  });
  const config = {
    ALLOWED_TAGS: TAGS,
    ALLOWED_ATTR: ATTRS,
    // DOMPurify holds every attribute not listed here to the URL pattern, which "3" fails.
    ADD_URI_SAFE_ATTR: ['start', 'target', 'rel'],
    ALLOWED_URI_REGEXP: SAFE_URL,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
  };

  return (body) => {
    const tokens = parseBody(md, body);
    // Too deep to parse whole: the text as it is, line breaks kept.
    const html = tokens ? md.renderer.render(tokens, md.options, {}) : `<p>${md.utils.escapeHtml(body).replace(/\n/g, '<br>')}</p>`;
    return purify.sanitize(html, config);
  };
}

let browserRenderer: RenderMarkdown | undefined;

/** Renders in the page's own window (created on first use, so importing this module is cheap). */
export function renderMarkdown(body: string): string {
  browserRenderer ??= createRenderer(window);
  return browserRenderer(body);
}
