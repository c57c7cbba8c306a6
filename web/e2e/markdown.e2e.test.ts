import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cspViolations, launch, newUser, openDirect, PNG, SCREENSHOTS, send, signUp, unique, type Browser, type BrowserContext, type Page } from './browser.ts';

const { baseUrl } = inject('stack');

/** Markdown in real browsers, under the ingress's Content-Security-Policy. */
describe('Markdown messages, hostile input and the CSP', () => {
  let browser: Browser;
  let alice: { context: BrowserContext; page: Page };
  let bob: { context: BrowserContext; page: Page };
  const dialogs: string[] = [];
  const sockets: string[] = [];
  const a = unique('mdalice');
  const b = unique('mdbob');

  const body = (p: Page, marker: string) => p.getByTestId('message-body').filter({ hasText: marker });

  beforeAll(async () => {
    browser = await launch();
    alice = await newUser(browser, baseUrl);
    bob = await newUser(browser, baseUrl);
    for (const u of [alice, bob]) {
      // alert(1) in any hostile message would open a dialog: record it rather than block on it.
      u.page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      u.page.on('websocket', (ws) => sockets.push(ws.url()));
    }
    await signUp(alice.page, a, 'Alice Markdown');
    await signUp(bob.page, b, 'Bob Markdown');
    await openDirect(alice.page, b);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('renders bold, italic, strikethrough, code, quotes, lists and links for the other person', async () => {
    await send(alice.page, 'md-1 **bold** _italic_ ~~gone~~ `a < b` [docs](https://example.com/docs)\n> quoted\n\n- one\n- two\n\n```\nconst x = 1;\n```');
    await bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice Markdown' }).click();
    const m = body(bob.page, 'md-1');
    await m.locator('strong', { hasText: 'bold' }).waitFor();
    expect(await m.locator('em').textContent()).toBe('italic');
    expect(await m.locator('s').textContent()).toBe('gone');
    expect(await m.locator('p code').textContent()).toBe('a < b');
    expect(await m.locator('blockquote').textContent()).toContain('quoted');
    expect(await m.locator('ul li').allTextContents()).toEqual(['one', 'two']);
    expect(await m.locator('pre code').textContent()).toBe('const x = 1;\n');
    const link = m.getByRole('link', { name: 'docs' });
    expect(await link.getAttribute('href')).toBe('https://example.com/docs');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    // The sidebar preview has the words, not the markup.
    const preview = await alice.page.getByTestId('conversation-item').filter({ hasText: 'Bob Markdown' }).locator('.preview').textContent();
    expect(preview).toMatch(/^You: md-1 bold italic gone a < b docs/);
    expect(preview).not.toMatch(/\*\*|~~|`|\]\(/);
    await bob.page.screenshot({ path: `${SCREENSHOTS}markdown-formatted-desktop.png` });
    await bob.page.setViewportSize({ width: 390, height: 844 });
    await m.locator('pre').waitFor();
    await bob.page.screenshot({ path: `${SCREENSHOTS}markdown-formatted-phone.png` });
    await bob.page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows hostile input as text: nothing runs, nothing loads, and the layout holds on desktop and phone', async () => {
    // [a marker to find the message by, the body]; markup that must start a line comes first.
    const hostile: [string, string][] = [
      ['h1-', 'h1- <script>alert(1)</script>'],
      ['h2-', 'h2- <img src=x onerror=alert(2)>'],
      ['h3-', 'h3- [click me](javascript:alert(3)) <javascript:alert(3)>'],
      ['h4-', 'h4- [data](data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==) ![pixel](https://tracker.example.com/p.gif)'],
      ['h5-', 'h5- &lt;img src=x onerror=alert(5)&gt; &#60;script&#62;alert(5)&#60;/script&#62; &amp;amp;'],
      ['h6-', `${'>'.repeat(3990)} h6-`],
      ['h7-', `h7- ${'*'.repeat(3990)}`],
      ['h8-', `h8- ${'W'.repeat(3990)}`],
      ['h9-', `h9-\n\`\`\`\n${'x'.repeat(600)} <script>alert(9)</script>\n\`\`\``],
      ['h10-', `${'- '.repeat(1990)}h10-`],
    ];
    // The list is virtualised (only rows near the viewport exist), so each one is checked as it
    // arrives at the bottom.
    const shownAs: Record<string, (m: ReturnType<typeof body>) => Promise<void>> = {
      'h1-': async (m) => expect(await m.textContent()).toContain('<script>alert(1)</script>'),
      'h3-': async (m) => expect(await m.textContent()).toContain('[click me](javascript:alert(3))'),
      // An image is only a link: nothing is fetched from the tracker.
      'h4-': async (m) => expect(await m.getByRole('link', { name: 'pixel' }).getAttribute('href')).toBe('https://tracker.example.com/p.gif'),
      'h5-': async (m) => expect(await m.textContent()).toContain('<img src=x onerror=alert(5)> <script>alert(5)</script> &amp;'),
      'h6-': async (m) => expect(await m.textContent()).toContain('>'.repeat(3990)),
      'h9-': async (m) => expect(await m.locator('pre code').textContent()).toContain('<script>alert(9)</script>'),
    };
    for (const [marker, h] of hostile) {
      await send(alice.page, h);
      for (const p of [alice.page, bob.page]) {
        const m = body(p, marker);
        await m.waitFor();
        const found = await m.evaluate((b) => ({
          elements: [...b.querySelectorAll('script, img, iframe, svg, style, object, embed')].map((e) => e.tagName),
          handlers: [...b.querySelectorAll('*')].flatMap((e) => [...e.attributes].filter((x) => x.name.startsWith('on')).map((x) => x.name)),
          hrefs: [...b.querySelectorAll('a')].map((x) => x.getAttribute('href') ?? ''),
          // A 4,000-character word or code line never widens the page.
          overflow: document.documentElement.scrollWidth - window.innerWidth,
        }));
        expect(found.elements, marker).toEqual([]);
        expect(found.handlers, marker).toEqual([]);
        for (const href of found.hrefs) expect(href, marker).toMatch(/^https:\/\//);
        expect(found.overflow, marker).toBeLessThanOrEqual(0);
        await shownAs[marker]?.(m);
      }
    }
    expect(dialogs).toEqual([]);

    // The last few (long word, code fence, deep list) are on screen for the pictures.
    await bob.page.screenshot({ path: `${SCREENSHOTS}markdown-desktop.png` });
    await bob.page.setViewportSize({ width: 390, height: 844 });
    await body(bob.page, 'h10-').scrollIntoViewIfNeeded();
    expect(await bob.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await bob.page.screenshot({ path: `${SCREENSHOTS}markdown-phone.png` });
    await bob.page.setViewportSize({ width: 1280, height: 800 });
  });

  it('converts :shortcode: emoji as you type, and inserts emoji from the composer button', async () => {
    const box = alice.page.getByTestId('composer');
    await box.pressSequentially('party :tada: at 10:30: ok :nosuch:');
    expect(await box.inputValue()).toBe('party 🎉 at 10:30: ok :nosuch:');
    await alice.page.getByRole('button', { name: 'Insert emoji' }).click();
    await alice.page.getByRole('button', { name: 'Insert 🔥' }).click();
    expect(await box.inputValue()).toBe('party 🎉 at 10:30: ok :nosuch:🔥');
    await box.press('Enter');
    await body(bob.page, 'party 🎉 at 10:30: ok :nosuch:🔥').waitFor();
  });

  it('runs the whole app without a single CSP violation, the WebSocket included', async () => {
    // An upload exercises img-src (a same-origin presigned URL) and the storage path.
    await alice.page.getByTestId('file-input').setInputFiles({ name: 'red.png', mimeType: 'image/png', buffer: PNG });
    await alice.page.locator('[data-testid="upload"][data-state="done"]').waitFor();
    await alice.page.getByTestId('composer').press('Enter');
    const img = bob.page.getByTestId('attachment-image').last();
    await img.waitFor();
    await bob.page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await img.elementHandle());
    // A reload runs the bootstrap script again; the socket reconnects.
    await bob.page.reload();
    await body(bob.page, 'party 🎉').waitFor();
    expect(sockets.some((u) => /^ws:\/\/[^/]+\/socket\.io\/.*transport=websocket/.test(u))).toBe(true);
    for (const p of [alice.page, bob.page]) expect(await cspViolations(p)).toEqual([]);
  });
});
