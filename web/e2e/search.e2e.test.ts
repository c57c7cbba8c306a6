import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Message } from '@chat/shared/models/types';
import { api, registerUser, storeMessages } from '../../test/api.ts';
import { makeMessage } from '../../test/bus.ts';
import { axe, cspViolations, launch, SCREENSHOTS, signIn, type Browser, type BrowserContext, type Page, type Person } from './browser.ts';

/**
 * Message search in the app (issue 17): the search box, its filters, and a result opening its
 * conversation at that message, highlighted, also when that message is far older than the
 * loaded page; the view then pages both ways and returns to the newest. People and messages are
 * seeded through the API and the db function; the ones under test use real Chromium pages.
 */
const { baseUrl } = inject('stack');

let browser: Browser;
let alice: Person, bob: Person;
let team: string, direct: string;
let old: Message, recent: Message, reply: Message;
const EARLY = 80;
const FILLERS = 160;

const row = (page: Page, id: string) => page.locator(`[data-testid="message"][data-message-id="${id}"]`);
/** The row while it is highlighted (the list marks the row around the message). */
const highlighted = (page: Page, id: string) => page.locator(`[data-highlighted] [data-testid="message"][data-message-id="${id}"]`);

/** Whether the row is inside the message list's visible box. */
async function inView(page: Page, id: string) {
  const list = (await page.getByTestId('message-list').boundingBox())!;
  const box = (await row(page, id).boundingBox())!;
  return box.y >= list.y - 1 && box.y + box.height <= list.y + list.height + 1;
}

const marks = (page: Page) => page.getByTestId('search-result').locator('mark').allTextContents();

beforeAll(async () => {
  [browser, alice, bob] = await Promise.all([launch(), registerUser(), registerUser()]);
  const res = await api('POST', '/api/db/conversations', { token: alice.accessToken, body: { type: 'group', title: 'Budget team', memberIds: [bob.user.id] } });
  team = res.body.conversation.id;
  direct = (await api('POST', '/api/db/conversations', { token: alice.accessToken, body: { type: 'direct', memberIds: [bob.user.id] } })).body.conversation.id;
  // One old message with pages of history before and after it, then a reply to it at the end.
  const early = Array.from({ length: EARLY }, (_, i) => makeMessage(team, alice.user.id, `early line ${i}`));
  old = makeMessage(team, bob.user.id, 'The Quarterly büdget review moved to Thursday');
  const fillers = Array.from({ length: FILLERS }, (_, i) => makeMessage(team, i % 2 ? alice.user.id : bob.user.id, `filler line ${i}`));
  recent = makeMessage(team, alice.user.id, 'Budget draft is ready for the quarterly meeting');
  reply = makeMessage(team, alice.user.id, 'About that, yes', { replyToId: old.id });
  const elsewhere = makeMessage(direct, alice.user.id, 'my own budget notes, quarterly');
  await storeMessages([...early, old, ...fillers, recent, reply, elsewhere]);
});

afterAll(async () => {
  await browser?.close();
});

describe('search → jump → highlight', () => {
  let ctx: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    ctx = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 800 } });
    page = await signIn(ctx, alice);
    await page.getByTestId('conversation-item').filter({ hasText: 'Budget team' }).click();
    await row(page, reply.id).waitFor();
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('Ctrl+F opens the search; results are grouped by conversation, words highlighted, with sender and time', async () => {
    // The old message is not in the loaded page.
    expect(await row(page, old.id).count()).toBe(0);
    await page.keyboard.press('Control+f');
    const input = page.getByTestId('search-input');
    await input.waitFor();
    expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
    await input.fill('quart budg');
    await page.getByTestId('search-status').filter({ hasText: '3 messages' }).waitFor();
    const groups = page.getByTestId('search-panel').getByRole('group');
    expect(await groups.locator('h3').allTextContents()).toEqual([bob.user.displayName, 'Budget team']);
    // Newest first within a group; prefixes marked in the original spelling (ü matched by u).
    const team = groups.nth(1).getByTestId('search-result');
    expect(await team.locator('.body').allTextContents()).toEqual([recent.body, old.body]);
    expect(await team.nth(1).locator('mark').allTextContents()).toEqual(['Quart', 'büdg']);
    expect(await team.nth(0).locator('mark').allTextContents()).toEqual(['Budg', 'quart']);
    expect(await team.nth(1).locator('.sender').textContent()).toBe(bob.user.displayName);
    expect(await team.nth(1).locator('time').getAttribute('datetime')).toBe(old.createdAt);
    await page.screenshot({ path: `${SCREENSHOTS}search-results-desktop.png` });
    expect(await axe(page)).toEqual([]);
  });

  it('filters typed in the query and set with the controls narrow the results', async () => {
    const input = page.getByTestId('search-input');
    await input.fill(`from:${bob.user.username} budg`);
    await page.getByTestId('search-status').filter({ hasText: '1 message' }).waitFor();
    expect(await page.getByTestId('search-result').locator('.body').allTextContents()).toEqual([old.body]);
    // The From control shows the typed filter; choosing "Anyone" takes it out of the query.
    expect(await page.getByTestId('search-from').inputValue()).toBe(bob.user.id);
    await page.getByTestId('search-from').selectOption('');
    expect(await input.inputValue()).toBe('budg');
    await page.getByTestId('search-status').filter({ hasText: '3 messages' }).waitFor();
    await page.getByTestId('search-in').selectOption(team);
    expect(await input.inputValue()).toBe('in:"Budget team" budg');
    await page.getByTestId('search-status').filter({ hasText: '2 messages' }).waitFor();
    // A date range that ends before the messages were written finds none of them.
    await page.getByTestId('search-before').fill('2020-01-01');
    expect(await input.inputValue()).toBe('in:"Budget team" before:2020-01-01 budg');
    await page.getByTestId('search-status').filter({ hasText: 'No messages match.' }).waitFor();
    await input.fill('in:"Budget team" budg on:2020-02-30');
    await page.getByTestId('search-status').filter({ hasText: 'Not understood: on:2020-02-30' }).waitFor();
    await input.fill('in:"Budget team" budg');
    await page.getByTestId('search-status').filter({ hasText: '2 messages' }).waitFor();
    expect(await marks(page)).toEqual(['Budg', 'büdg']);
  });

  it('↓ and Enter open an old message in its conversation, scrolled into view and highlighted', async () => {
    const input = page.getByTestId('search-input');
    await input.press('ArrowDown');
    expect(await input.getAttribute('aria-activedescendant')).toBe(`search-result-${old.id}`);
    await input.press('Enter');
    await page.getByTestId('search-panel').waitFor({ state: 'detached' });
    await highlighted(page, old.id).waitFor();
    expect(await inView(page, old.id)).toBe(true);
    expect(page.url()).toBe(`${baseUrl}/c/${team}`);
    // The newest messages are not loaded, so the list offers the way back.
    expect(await row(page, reply.id).count()).toBe(0);
    await page.getByTestId('jump-latest').waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}search-jump-desktop.png` });
    // The highlight is brief.
    await page.locator('[data-highlighted]').waitFor({ state: 'detached', timeout: 5000 });
  });

  it('pages both ways from there: older above, newer below until the newest, then it is live', async () => {
    const list = page.getByTestId('message-list');
    const loaded = () => page.locator('[data-testid="message"][data-message-id]').count();
    const before = await loaded();
    await list.evaluate((el) => (el.scrollTop = 0));
    await page.getByText('This is the beginning of the conversation.').waitFor();
    expect(await loaded()).toBeGreaterThan(before);
    // Down to the end, page by page.
    for (let i = 0; i < 10 && (await row(page, reply.id).count()) === 0; i++) {
      await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="message"][data-message-id]').length > n, await loaded(), { timeout: 10_000 }).catch(() => {});
    }
    await row(page, reply.id).waitFor();
    expect(await loaded()).toBe(EARLY + FILLERS + 3);
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator('[data-testid="message-list"][data-stuck="true"]').waitFor();
  });

  it("a reply's quote opens its original the same way, and Jump to latest comes back", async () => {
    await page.reload();
    await row(page, reply.id).waitFor();
    expect(await row(page, old.id).count()).toBe(0);
    await row(page, reply.id).getByTestId('reply-quote').click();
    await highlighted(page, old.id).waitFor();
    expect(await inView(page, old.id)).toBe(true);
    await page.getByTestId('jump-latest').click();
    await row(page, reply.id).waitFor();
    await page.locator('[data-testid="message-list"][data-stuck="true"]').waitFor();
    expect(await inView(page, reply.id)).toBe(true);
    expect(await row(page, old.id).count()).toBe(0);
    // Live again: a message sent now appears at the bottom.
    await page.getByTestId('composer').fill('sent after jumping back');
    await page.getByTestId('composer').press('Enter');
    await page.getByTestId('message-body').filter({ hasText: 'sent after jumping back' }).waitFor();
    expect(await cspViolations(page)).toEqual([]);
  });
});

describe('search on a phone', () => {
  it('is a full-screen view (dark scheme); a result opens the conversation at the message, highlighted', async () => {
    // In the dark scheme, which the app follows from the system.
    const ctx = await browser.newContext({ baseURL: baseUrl, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    try {
      const page = await signIn(ctx, bob);
      await page.getByTestId('open-search').click();
      const panel = page.getByTestId('search-panel');
      await panel.waitFor();
      const box = (await panel.boundingBox())!;
      expect(box.width).toBe(390);
      expect(box.height).toBe(844);
      await page.getByTestId('search-input').fill('BUDGET revi');
      await page.getByTestId('search-status').filter({ hasText: '1 message' }).waitFor();
      expect(await marks(page)).toEqual(['büdget', 'revi']);
      await page.screenshot({ path: `${SCREENSHOTS}search-results-phone.png` });
      expect(await axe(page)).toEqual([]);
      await page.getByTestId('search-result').tap();
      await highlighted(page, old.id).waitFor();
      // The phone loads the conversation as it opens: the view may still settle (pages above) for a frame.
      await expect.poll(() => inView(page, old.id)).toBe(true);
      await page.screenshot({ path: `${SCREENSHOTS}search-jump-phone.png` });
      // Esc closes a reopened search and leaves the conversation as it was.
      await page.getByTestId('search-here').tap();
      expect(await page.getByTestId('search-input').inputValue()).toBe('in:"Budget team" ');
      await page.keyboard.press('Escape');
      await panel.waitFor({ state: 'detached' });
      expect(await inView(page, old.id)).toBe(true);
      // Back to the list and into the conversation again: it opens on the newest page, like any
      // other visit (bob has read nothing, so at its unread divider), not at the old message.
      await page.getByLabel('Back to conversations').tap();
      await page.getByTestId('conversation-item').filter({ hasText: 'Budget team' }).tap();
      await row(page, reply.id).waitFor();
      await page.getByTestId('unread-divider').waitFor();
      expect(await row(page, old.id).count()).toBe(0);
      expect(await page.locator('[data-highlighted]').count()).toBe(0);
    } finally {
      await ctx.close();
    }
  });
});
