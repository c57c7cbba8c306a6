import { describe, expect, it } from 'vitest';
import { createMarkdown, parseBody, stripMarkdown } from './markdown.ts';

const md = createMarkdown();
const render = (s: string) => md.render(s).trim();

describe('the message Markdown subset', () => {
  it('renders bold, italic, strikethrough, inline code, fences, quotes, lists and links', () => {
    expect(render('**b** _i_ ~~s~~ `c`')).toBe('<p><strong>b</strong> <em>i</em> <s>s</s> <code>c</code></p>');
    expect(render('```js\nconst a = 1 < 2;\n```')).toBe('<pre><code class="language-js">const a = 1 &lt; 2;\n</code></pre>');
    expect(render('> quoted')).toBe('<blockquote>\n<p>quoted</p>\n</blockquote>');
    expect(render('- a\n- b')).toBe('<ul>\n<li>a</li>\n<li>b</li>\n</ul>');
    expect(render('2. two\n3. three')).toBe('<ol start="2">\n<li>two</li>\n<li>three</li>\n</ol>');
    expect(render('[docs](https://example.com/a?b=1)')).toBe('<p><a href="https://example.com/a?b=1">docs</a></p>');
    // A newline is a line break, as in every chat app.
    expect(render('one\ntwo')).toBe('<p>one<br>\ntwo</p>');
  });

  it('links bare URLs over https, but not file names or other schemes', () => {
    expect(render('see www.example.com.')).toBe('<p>see <a href="https://www.example.com">www.example.com</a>.</p>');
    expect(render('http://x.org/a?b=c.')).toBe('<p><a href="http://x.org/a?b=c">http://x.org/a?b=c</a>.</p>');
    expect(render('main.rs setup.py ftp://x.com //x.com a@b.com')).toBe('<p>main.rs setup.py ftp://x.com //x.com a@b.com</p>');
  });

  it('keeps raw HTML, images and unsafe link targets as text', () => {
    expect(render('<script>alert(1)</script><img src=x onerror=alert(1)>')).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</p>');
    for (const href of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:x', 'file:///etc/passwd', '/relative'])
      expect(render(`[x](${href})`), href).not.toMatch(/<a /);
    expect(render('<javascript:alert(1)>')).not.toMatch(/<a /);
    // An image is a link to its URL, never an <img> that loads it.
    expect(render('![cat](https://evil.example.com/track.png)')).toBe('<p>!<a href="https://evil.example.com/track.png">cat</a></p>');
    expect(render('![x](data:image/png;base64,AAAA)')).not.toMatch(/<img|<a /);
  });

  it('decodes entities into text, never into markup', () => {
    expect(render('&lt;b&gt;x&lt;/b&gt; &amp; &#x3C;script&#x3E;')).toBe('<p>&lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;</p>');
  });

  it('turns off what chat text trips over: headings, rules, indented code, reference definitions', () => {
    expect(render('# not a heading\n---\n    not code')).toBe('<p># not a heading<br>\n---<br>\nnot code</p>');
    // The definition stays a line of text (its URL linked); [a] is not a link.
    expect(render('[a]\n\n[a]: https://example.com')).toBe('<p>[a]</p>\n<p>[a]: <a href="https://example.com">https://example.com</a></p>');
  });

  it('reports a body nested deeper than it follows, instead of dropping its end', () => {
    expect(parseBody(md, `${'>'.repeat(5000)} deep`)).toBeNull();
    expect(parseBody(md, `${'- '.repeat(5000)}deep`)).toBeNull();
    expect(parseBody(md, '> > > - > fine')).not.toBeNull();
    // Thousands of emphasis markers are plain text in linear time.
    const t0 = performance.now();
    expect(render('*'.repeat(5000))).toBe(`<p>${'*'.repeat(5000)}</p>`);
    expect(render('*a '.repeat(5000))).toContain('*a');
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('stripMarkdown', () => {
  it('keeps the words and drops the markup', () => {
    expect(stripMarkdown('**Hi** _there_, ~~no~~ `code` [docs](https://example.com)')).toBe('Hi there, no code docs');
    expect(stripMarkdown('> quoted\n\n- one\n- two\n\n```\nx = 1\n```')).toBe('quoted\none\ntwo\nx = 1');
    expect(stripMarkdown('&amp; <b>raw</b>')).toBe('& <b>raw</b>');
    expect(stripMarkdown('plain text, nothing else')).toBe('plain text, nothing else');
    expect(stripMarkdown('   ')).toBe('');
  });

  it('gives back a body too deep to parse as it is', () => {
    const body = `${'>'.repeat(5000)} deep`;
    expect(stripMarkdown(body)).toBe(body);
  });
});
