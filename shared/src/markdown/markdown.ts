import markdownIt from 'markdown-it';
import type { MarkdownIt, Token } from 'markdown-it';

/**
 * The Markdown that message bodies may use: one parser configuration shared by the web app
 * (which renders it, then sanitises the HTML with DOMPurify) and by everything that needs the
 * words without the markup (sidebar previews, Web Push bodies). Bodies stay plain text on the
 * wire and in the store; Markdown is only ever turned into HTML in the client.
 *
 * A CommonMark subset: bold, italic, strikethrough, inline code, fenced code blocks, block
 * quotes, lists and links. No raw HTML, no images (`![x](url)` renders as "!" and a link, so no
 * message loads a third-party URL by being displayed), no headings, rules, tables or indented
 * code blocks, which chat text trips over by accident.
 */

/** Link targets a message may carry; everything else (javascript:, data:, file:, relative) stays text. */
const SAFE_LINK = /^(?:https?:|mailto:)/i;

/** Top-level domains a bare "example.com" is linked for. The default list includes every
 * two-letter country code, which turns file names such as main.rs or setup.py into links. */
const FUZZY_TLDS = ['com', 'org', 'net', 'io', 'dev', 'app', 'edu', 'gov', 'info'];

/** Deeper than this (5,000 ">" or "- "), the parser stops nesting and drops the rest. */
const MAX_NESTING = 20;

export function createMarkdown(): MarkdownIt {
  // 'zero' starts with every rule off; only the listed ones are turned on.
  const md = markdownIt('zero', {
    html: false,
    linkify: true,
    // A newline in a chat message is a line break, as people expect from other chat apps.
    breaks: true,
    maxNesting: MAX_NESTING,
  });
  md.enable(['linkify', 'blockquote', 'fence', 'list', 'newline', 'escape', 'backticks', 'emphasis', 'strikethrough', 'link', 'autolink', 'entity']);
  md.validateLink = (url) => SAFE_LINK.test(url.trim());
  md.linkify
    .set({ fuzzyLink: true, fuzzyEmail: false })
    .tlds(FUZZY_TLDS, false)
    // Only http(s) and mailto: links, as validateLink allows; "//host" and ftp: stay text.
    .add('//', null)
    .add('ftp:', null);
  // "www.example.com" is linked over https, never http.
  md.linkify.normalize = (match) => {
    if (!match.schema) match.url = `https://${match.url}`;
  };
  return md;
}

/**
 * The body's tokens, or null when it nests deeper than the parser follows: the parser would
 * silently drop what lies below that depth, so such a body is shown as plain text instead.
 */
export function parseBody(md: MarkdownIt, body: string, env: Record<string, unknown> = {}): Token[] | null {
  const tokens = md.parse(body, env);
  const tooDeep = (list: Token[]): boolean => list.some((t) => t.level >= MAX_NESTING - 1 || (t.children !== null && tooDeep(t.children)));
  return tooDeep(tokens) ? null : tokens;
}

let shared: MarkdownIt | undefined;
const parser = () => (shared ??= createMarkdown());

/**
 * The text of a message without its markup, for one-line previews and notification bodies:
 * emphasis markers, code fences and quote marks go, link texts stay, blocks are separated by a
 * newline (a preview shows them on one line with CSS).
 */
export function stripMarkdown(body: string): string {
  const blocks: string[] = [];
  let current = '';
  const flush = () => {
    if (current) blocks.push(current);
    current = '';
  };
  const tokens = parseBody(parser(), body);
  if (!tokens) return body.trim();
  for (const t of tokens) {
    if (t.type === 'inline') {
      for (const c of t.children ?? []) {
        if (c.type === 'text' || c.type === 'code_inline') current += c.content;
        else if (c.type === 'softbreak' || c.type === 'hardbreak') current += '\n';
      }
    } else if (t.type === 'fence') {
      flush();
      current = t.content.replace(/\n$/, '');
      flush();
    } else if (t.block && t.nesting === -1) {
      // The end of a paragraph, list item or quote.
      flush();
    }
  }
  flush();
  return blocks.join('\n').trim();
}
