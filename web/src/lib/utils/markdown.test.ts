import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { createRenderer, LINK_REL } from './markdown';

const { window } = new JSDOM('<!doctype html><body></body>');
const render = createRenderer(window as unknown as Parameters<typeof createRenderer>[0]);

/** What a browser would build from the HTML: every element and attribute, for structural checks. */
function dom(html: string) {
  const root = window.document.createElement('div');
  root.innerHTML = html;
  return root;
}
const ALLOWED = new Set(['P', 'BR', 'STRONG', 'EM', 'S', 'CODE', 'PRE', 'BLOCKQUOTE', 'UL', 'OL', 'LI', 'A']);

function expectInert(html: string, input: string) {
  const root = dom(html);
  for (const el of root.querySelectorAll('*')) {
    expect(ALLOWED.has(el.tagName), `${el.tagName} from ${input.slice(0, 60)}`).toBe(true);
    for (const a of el.attributes) {
      expect(['href', 'target', 'rel', 'start'], `${a.name} from ${input.slice(0, 60)}`).toContain(a.name);
      if (a.name === 'href') expect(a.value, input).toMatch(/^(https?:|mailto:)/i);
    }
  }
}

const HOSTILE = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(1)>',
  '<a href="javascript:alert(1)">x</a>',
  '[click](javascript:alert(1))',
  '[click](JAVASCRIPT:alert(1))',
  '[click](java\tscript:alert(1))',
  '[click](&#106;avascript:alert(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)',
  '![x](https://tracker.example.com/pixel.gif)',
  '<javascript:alert(1)>',
  '[x](https://ok.example.com "title\\" onmouseover=\\"alert(1))',
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '&#60;img src=x onerror=alert(1)&#62;',
  '```html\n<script>alert(1)</script>\n```',
  '`<img src=x onerror=alert(1)>`',
  '> <iframe src="https://evil.example.com"></iframe>',
  '- <style>body{display:none}</style>',
  `${'>'.repeat(5000)} deep <script>alert(1)</script>`,
  `${'- '.repeat(5000)}deep`,
  '*'.repeat(5000),
  `${'**'.repeat(2500)}x${'**'.repeat(2500)}`,
  `${'['.repeat(5000)}x${'](https://a.example.com)'.repeat(50)}`,
  'a'.repeat(10_000),
];

describe('renderMarkdown', () => {
  it('renders the subset', () => {
    expect(render('**b** _i_ ~~s~~ `c`')).toBe('<p><strong>b</strong> <em>i</em> <s>s</s> <code>c</code></p>\n');
    expect(render('> q\n\n- a\n\n3. c')).toBe('<blockquote>\n<p>q</p>\n</blockquote>\n<ul>\n<li>a</li>\n</ul>\n<ol start="3">\n<li>c</li>\n</ol>\n');
    // A fence keeps its text, not its language class (no class reaches the page from a message).
    expect(render('```js\nif (a < b) {}\n```')).toBe('<pre><code>if (a &lt; b) {}\n</code></pre>\n');
  });

  it('opens links in a new tab, without opener, referrer or SEO credit', () => {
    const a = dom(render('[docs](https://example.com/x) and https://example.org')).querySelectorAll('a');
    expect(a).toHaveLength(2);
    for (const link of a) {
      expect(link.getAttribute('target')).toBe('_blank');
      expect(link.getAttribute('rel')).toBe(LINK_REL);
    }
    expect(a[0]!.getAttribute('href')).toBe('https://example.com/x');
    expect(LINK_REL).toBe('noopener noreferrer nofollow');
  });

  it('shows hostile input as text: nothing runs, no foreign tag, attribute or URL scheme gets through', () => {
    for (const input of HOSTILE) expectInert(render(input), input);
    expect(dom(render('<script>alert(1)</script>')).textContent?.trim()).toBe('<script>alert(1)</script>');
    expect(dom(render('&lt;b&gt; &amp;amp;')).textContent?.trim()).toBe('<b> &amp;');
    expect(dom(render('[click](javascript:alert(1))')).textContent?.trim()).toBe('[click](javascript:alert(1))');
    // An image is a link the reader may follow, never a request the page makes by itself.
    const img = dom(render('![x](https://tracker.example.com/pixel.gif)'));
    expect(img.querySelector('img')).toBeNull();
    expect(img.querySelector('a')?.getAttribute('href')).toBe('https://tracker.example.com/pixel.gif');
  });

  it('shows a body nested too deep as its plain text, all of it', () => {
    const body = `${'>'.repeat(5000)} the end`;
    const root = dom(render(body));
    expect(root.querySelector('blockquote')).toBeNull();
    expect(root.textContent).toBe(body);
  });

  it('highlights the mentions it is given, mine stronger, and nothing in code or links', () => {
    const hl = new Map<string, 'me' | 'other'>([
      ['bob', 'other'],
      ['mia', 'me'],
    ]);
    const root = dom(render('**hi @Bob.**, @mia! @bob_ @nobody `@bob` [@bob](https://x.example.com) ann@bob', hl));
    const spans = [...root.querySelectorAll('span')].map((x) => [x.className, x.textContent]);
    expect(spans).toEqual([
      ['mention', '@Bob'],
      ['mention mention-me', '@mia'],
    ]);
    expect(root.textContent?.trim()).toBe('hi @Bob., @mia! @bob_ @nobody @bob @bob ann@bob');
    // Without highlights the same text has no span at all.
    expect(dom(render('hi @bob')).querySelector('span')).toBeNull();
  });

  it('keeps hostile input inert when highlighting mentions too', () => {
    const hl = new Map<string, 'me' | 'other'>([['x', 'me']]);
    for (const input of [...HOSTILE, '@x <span class="evil">@x</span>', '[@x](javascript:alert(1)) @x']) {
      const root = dom(render(input, hl));
      for (const el of root.querySelectorAll('span')) expect(['mention', 'mention mention-me']).toContain(el.className);
      for (const el of root.querySelectorAll('span')) el.replaceWith(...el.childNodes);
      expectInert(root.innerHTML, input);
    }
  });

  it('keeps line breaks and code fences', () => {
    expect(dom(render('one\ntwo')).querySelectorAll('br')).toHaveLength(1);
    const pre = dom(render('```\n  indented\n\n*not emphasis*\n```')).querySelector('pre');
    expect(pre?.textContent).toBe('  indented\n\n*not emphasis*\n');
  });
});
