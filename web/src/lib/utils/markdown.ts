import createDOMPurify, { type DOMPurify, type WindowLike } from 'dompurify';
import type { MarkdownIt, StateCore, Token } from 'markdown-it';
import { createMarkdown, parseBody } from '@chat/shared/markdown/markdown';
import { mentionSpans } from '@chat/shared/mentions/mentions';

export { stripMarkdown } from '@chat/shared/markdown/markdown';

/**
 * A message body as HTML: the shared Markdown subset (@chat/shared/markdown/markdown, raw HTML
 * and images off), then DOMPurify with an allow-list of exactly the tags that subset emits. The
 * parser alone already escapes everything else; the sanitizer is there so that a parser bug or
 * a rule enabled later cannot put script, event handlers or foreign tags into the page.
 * Components load this module through markdown-loader.svelte.ts, never statically.
 */

const TAGS = ['p', 'br', 'strong', 'em', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'span'];
/** `start` numbers an ordered list that begins at 3; `class` only as a mention's (below); no style or id. */
const ATTRS = ['href', 'target', 'rel', 'start', 'class'];
const MENTION_CLASSES = new Set(['mention', 'mention mention-me']);
const SAFE_URL = /^(?:https?:|mailto:)/i;
/** Links open elsewhere without a handle on this window, a referrer, or SEO credit. */
export const LINK_REL = 'noopener noreferrer nofollow';

/** Which `@names` to highlight, by lowercased name: `me` for the reader, `other` for other members. */
export type MentionHighlights = ReadonlyMap<string, 'me' | 'other'>;

export type RenderMarkdown = (body: string, mentions?: MentionHighlights) => string;

/**
 * Splits the text of each paragraph (not code, not link text) at the `@names` to highlight, into
 * `mention` tokens. Only names the message resolved are given, so "@nobody" stays text.
 */
function mentionRule(md: MarkdownIt) {
  md.core.ruler.push('mentions', (state: StateCore) => {
    const highlights = (state.env as { mentions?: MentionHighlights }).mentions;
    if (!highlights?.size) return;
    for (const block of state.tokens) {
      if (block.type !== 'inline' || !block.children) continue;
      const out: Token[] = [];
      let inLink = 0;
      let pending: Token | null = null;
      const flush = () => {
        if (pending) out.push(...splitMentions(state, pending, highlights));
        pending = null;
      };
      for (const t of block.children) {
        if (t.type === 'link_open') inLink++;
        if (t.type === 'link_close') inLink--;
        if (t.type !== 'text' || inLink > 0) {
          flush();
          out.push(t);
        } else if (pending) {
          // Adjacent text pieces ("@", "bob") are one text for matching.
          pending.content += t.content;
        } else pending = t;
      }
      flush();
      block.children = out;
    }
  });
  md.renderer.rules.mention = (tokens, idx) =>
    `<span class="mention${(tokens[idx]!.meta as { who?: string } | null)?.who === 'me' ? ' mention-me' : ''}">${md.utils.escapeHtml(tokens[idx]!.content)}</span>`;
}

function splitMentions(state: StateCore, t: Token, highlights: MentionHighlights): Token[] {
  const spans = mentionSpans(t.content).filter((s) => highlights.has(s.name));
  if (spans.length === 0) return [t];
  const out: Token[] = [];
  let at = 0;
  const text = (content: string) => {
    if (!content) return;
    const x = new state.Token('text', '', 0);
    x.content = content;
    out.push(x);
  };
  for (const s of spans) {
    text(t.content.slice(at, s.index));
    const m = new state.Token('mention', '', 0);
    m.content = t.content.slice(s.index, s.index + s.length);
    m.meta = { who: highlights.get(s.name) };
    out.push(m);
    at = s.index + s.length;
  }
  text(t.content.slice(at));
  return out;
}

/** A renderer bound to one window's DOMPurify (the browser's, or jsdom's in unit tests). */
export function createRenderer(window: WindowLike): RenderMarkdown {
  const purify: DOMPurify = createDOMPurify(window);
  const md = createMarkdown();
  mentionRule(md);
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
  // The only class a message's HTML may carry is a mention's, on the span this renderer made.
  purify.addHook('uponSanitizeAttribute', (node, data) => {
    if (data.attrName === 'class' && !(node.nodeName === 'SPAN' && MENTION_CLASSES.has(data.attrValue))) data.keepAttr = false;
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

  return (body, mentions) => {
    const env = { mentions };
    const tokens = parseBody(md, body, env);
    // Too deep to parse whole: the text as it is, line breaks kept.
    const html = tokens ? md.renderer.render(tokens, md.options, env) : `<p>${md.utils.escapeHtml(body).replace(/\n/g, '<br>')}</p>`;
    return purify.sanitize(html, config);
  };
}

let browserRenderer: RenderMarkdown | undefined;

/** Renders in the page's own window (created on first use, so importing this module is cheap). */
export function renderMarkdown(body: string, mentions?: MentionHighlights): string {
  browserRenderer ??= createRenderer(window);
  return browserRenderer(body, mentions);
}
