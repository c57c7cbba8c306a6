import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { api, registerUser } from '../../test/api.ts';
import { eventually } from '../../test/bus.ts';
import { axe, cspViolations, launch, logIn, message, newUser, SCREENSHOTS, unique, type Browser, type BrowserContext, type Page, type Person } from './browser.ts';

/**
 * @mentions in real browsers: the composer's autocomplete by keyboard and pointer, the
 * highlight (mine stronger), the sidebar's mention badge and the notification level picker.
 */
const { baseUrl } = inject('stack');

describe('@mentions in the web app', () => {
  let browser: Browser;
  let alice: Person, bob: Person, carol: Person;
  let a: { context: BrowserContext; page: Page };
  let b: { context: BrowserContext; page: Page };
  let groupId: string;
  const item = (p: Page) => p.getByTestId('conversation-item').filter({ hasText: 'Mention crew' });

  beforeAll(async () => {
    [alice, bob, carol] = await Promise.all([registerUser(unique('alice')), registerUser(unique('bob')), registerUser(unique('carol'))]);
    const res = await api('POST', '/api/db/conversations', { token: carol.accessToken, body: { type: 'group', title: 'Mention crew', memberIds: [alice.user.id, bob.user.id] } });
    expect(res.status).toBe(201);
    groupId = res.body.conversation.id;
    // Bob is somewhere else when he is mentioned: a direct chat of his own.
    expect((await api('POST', '/api/db/conversations', { token: bob.accessToken, body: { type: 'direct', memberIds: [carol.user.id] } })).status).toBe(201);
    browser = await launch();
    a = await newUser(browser, baseUrl);
    b = await newUser(browser, baseUrl);
    await logIn(a.page, alice);
    await logIn(b.page, bob);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('offers the members on "@", picked by keyboard (arrows, Enter, Tab, Esc), and sends resolved mentions', async () => {
    await item(a.page).click();
    const box = a.page.getByTestId('composer');
    await box.waitFor();
    await box.pressSequentially('hey @');
    const picker = a.page.getByTestId('mention-picker');
    await picker.waitFor();
    // Everyone but me, then @here.
    expect(await picker.getByTestId('mention-option').locator('.name').allTextContents()).toEqual([
      ...[bob, carol].sort((x, y) => x.user.username.localeCompare(y.user.username)).map((u) => `${u.user.displayName}@${u.user.username}`),
      '@hereNotify everyone online in this conversation',
    ]);
    expect(await box.getAttribute('aria-controls')).toBe(await picker.getAttribute('id'));
    await box.pressSequentially(bob.user.username.slice(0, 4));
    expect(await picker.getByTestId('mention-option').count()).toBe(1);
    expect(await picker.getByRole('option', { selected: true }).textContent()).toContain(`@${bob.user.username}`);
    expect(await box.getAttribute('aria-activedescendant')).toBe(await picker.getByRole('option', { selected: true }).getAttribute('id'));
    expect(await axe(a.page)).toEqual([]);
    await a.page.screenshot({ path: `${SCREENSHOTS}mentions-autocomplete-desktop.png` });
    await box.press('Enter');
    expect(await box.inputValue()).toBe(`hey @${bob.user.username} `);
    await picker.waitFor({ state: 'detached' });

    // Esc closes the list and keeps the text; the arrows wrap; Tab picks.
    await box.pressSequentially('and @');
    await picker.waitFor();
    await box.press('Escape');
    await picker.waitFor({ state: 'detached' });
    expect(await box.inputValue()).toBe(`hey @${bob.user.username} and @`);
    await box.pressSequentially(carol.user.username.slice(0, 5));
    await picker.waitFor();
    await box.press('ArrowDown');
    await box.press('ArrowUp');
    await box.press('Tab');
    await box.pressSequentially('see this');
    expect(await box.inputValue()).toBe(`hey @${bob.user.username} and @${carol.user.username} see this`);
    await box.press('Enter');

    // Both mentions are highlighted for the sender, neither as "me".
    const sent = message(a.page, `hey @${bob.user.username} and @${carol.user.username} see this`);
    await sent.locator('.mention').nth(1).waitFor();
    expect(await sent.locator('.mention').allTextContents()).toEqual([`@${bob.user.username}`, `@${carol.user.username}`]);
    expect(await sent.locator('.mention-me').count()).toBe(0);
    expect(await cspViolations(a.page)).toEqual([]);
  });

  it('gives the mentioned member a separate mention badge, and highlights their own name more strongly', async () => {
    const badge = item(b.page).getByTestId('mention-badge');
    await badge.waitFor();
    expect(await badge.textContent()).toBe('@1');
    expect(await badge.getAttribute('aria-label')).toBe('1 unread mention');
    expect(await item(b.page).getByTestId('unread-badge').textContent()).toBe('1');
    await b.page.screenshot({ path: `${SCREENSHOTS}mentions-badge-desktop.png` });

    await item(b.page).click();
    const m = message(b.page, `hey @${bob.user.username} and @${carol.user.username} see this`);
    await m.locator('.mention-me').waitFor();
    expect(await m.locator('.mention-me').textContent()).toBe(`@${bob.user.username}`);
    expect(await m.locator('.mention:not(.mention-me)').textContent()).toBe(`@${carol.user.username}`);
    // Reading it clears both badges, also after a reload (the server's counters agree).
    await item(b.page).getByTestId('mention-badge').waitFor({ state: 'detached' });
    await b.page.getByTestId('composer').waitFor();
    await b.page.screenshot({ path: `${SCREENSHOTS}mentions-highlight-desktop.png` });
    // The read reaches the store through the bus a moment after the socket's ack: reload once it has.
    await eventually(async () => {
      const res = await api('GET', `/api/db/conversations/${groupId}`, { token: bob.accessToken });
      return res.body.conversation.unreadMentionCount === 0 ? true : undefined;
    }, 'the read stored');
    await b.page.goto('/');
    await item(b.page).waitFor();
    expect(await item(b.page).getByTestId('mention-badge').count()).toBe(0);
  });

  it('on a phone, in dark mode, picks a mention with the pointer', async () => {
    await b.page.setViewportSize({ width: 390, height: 844 });
    await b.page.emulateMedia({ colorScheme: 'dark' });
    await b.page.goto(`/c/${groupId}`);
    const box = b.page.getByTestId('composer');
    await box.waitFor();
    await box.pressSequentially('@');
    const picker = b.page.getByTestId('mention-picker');
    await picker.waitFor();
    expect(await b.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await b.page.screenshot({ path: `${SCREENSHOTS}mentions-autocomplete-phone-dark.png` });
    await picker.getByTestId('mention-option').filter({ hasText: `@${alice.user.username}` }).click();
    expect(await box.inputValue()).toBe(`@${alice.user.username} `);
    await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
    await box.pressSequentially('thanks!');
    await box.press('Enter');
    const m = message(b.page, `@${alice.user.username} thanks!`);
    await m.locator('.mention').waitFor();
    await b.page.screenshot({ path: `${SCREENSHOTS}mentions-highlight-phone-dark.png` });
    await b.page.emulateMedia({ colorScheme: 'light' });
    await b.page.setViewportSize({ width: 1280, height: 800 });
  });

  it('sets the notification level per conversation from its details', async () => {
    await b.page.goto(`/c/${groupId}`);
    await b.page.getByTestId('details').click();
    const picker = b.page.getByTestId('notification-level');
    await picker.waitFor();
    // A group of three defaults to every message.
    expect(await picker.getByTestId('level-all').isChecked()).toBe(true);
    await picker.getByTestId('level-mentions').check();
    expect(await axe(b.page)).toEqual([]);
    await b.page.screenshot({ path: `${SCREENSHOTS}mentions-level-desktop.png` });
    await b.page.keyboard.press('Escape');
    await b.page.getByTestId('conversation-view').getByText('· mentions only').waitFor();
    const stored = await api('GET', `/api/notification/preferences/${groupId}`, { token: bob.accessToken });
    expect(stored.body).toEqual({ level: 'mentions', muted: false });
    await b.page.reload();
    await b.page.getByTestId('conversation-view').getByText('· mentions only').waitFor();
  });
});
