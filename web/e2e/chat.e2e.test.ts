import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { axe, launch, message, newUser, openDirect, PNG, SCREENSHOTS, send, signUp, unique, type Browser, type BrowserContext, type Page } from './browser.ts';

const { baseUrl } = inject('stack');

describe('two people chatting in real browsers', () => {
  let browser: Browser;
  let alice: { context: BrowserContext; page: Page };
  let bob: { context: BrowserContext; page: Page };
  const a = unique('alice');
  const b = unique('bob');

  beforeAll(async () => {
    browser = await launch();
    alice = await newUser(browser, baseUrl);
    bob = await newUser(browser, baseUrl);
    await signUp(alice.page, a, 'Alice Liddell');
    await signUp(bob.page, b, 'Bob Builder');
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('find each other and chat in real time with typing and presence', async () => {
    await openDirect(alice.page, b);
    await alice.page.getByTestId('peer-presence').getByText('Online').waitFor();
    await send(alice.page, 'Hi Bob! https://example.com');
    await message(alice.page, 'Hi Bob! https://example.com').and(alice.page.locator('[data-state="sent"]')).waitFor();

    // Bob sees the new conversation with an unread badge, then opens it.
    const item = bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice Liddell' });
    await item.getByTestId('unread-badge').getByText('1').waitFor();
    await item.click();
    await message(bob.page, 'Hi Bob! https://example.com').waitFor();
    const link = message(bob.page, 'Hi Bob! https://example.com').getByRole('link', { name: 'https://example.com' });
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    await item.getByTestId('unread-badge').waitFor({ state: 'detached' });
    await bob.page.getByTestId('peer-presence').getByText('Online').waitFor();

    // Typing indicator.
    await bob.page.getByTestId('composer').pressSequentially('typing…', { delay: 20 });
    await alice.page.getByTestId('typing-indicator').getByText('Bob Builder is typing…').waitFor();
    await bob.page.getByTestId('composer').fill('');
    await send(bob.page, 'Hello Alice');
    await message(alice.page, 'Hello Alice').waitFor();
    await alice.page.getByTestId('typing-indicator').getByText('is typing').waitFor({ state: 'detached' });
  });

  it('react, edit and delete show up for both', async () => {
    const mine = message(alice.page, 'Hello Alice');
    await mine.hover();
    await mine.getByRole('button', { name: 'React with 👍' }).click();
    await message(bob.page, 'Hello Alice').getByTestId('reaction').getByText('1').waitFor();

    const own = message(bob.page, 'Hello Alice');
    await own.hover();
    await own.getByRole('button', { name: 'Edit message' }).click();
    const editor = bob.page.getByLabel('Edit message');
    await editor.fill('Hello Alice, edited');
    await editor.press('Enter');
    await message(alice.page, 'Hello Alice, edited').waitFor();
    await alice.page.getByTestId('edited-mark').first().waitFor();

    bob.page.once('dialog', (d) => void d.accept());
    const edited = message(bob.page, 'Hello Alice, edited');
    await edited.hover();
    await edited.getByRole('button', { name: 'Delete message' }).click();
    await alice.page.getByTestId('message-deleted').waitFor();
    await expect(message(alice.page, 'Hello Alice, edited').count()).resolves.toBe(0);
  });

  it('messages written offline are delivered exactly once after reconnecting', async () => {
    await alice.context.setOffline(true);
    await alice.page.getByTestId('connection-banner').waitFor();
    await send(alice.page, 'offline one');
    await send(alice.page, 'offline two');
    await expect(alice.page.locator('[data-state="pending"]').count()).resolves.toBe(2);
    await alice.context.setOffline(false);
    await alice.page.getByTestId('connection-banner').waitFor({ state: 'detached' });
    await message(bob.page, 'offline one').waitFor();
    await message(bob.page, 'offline two').waitFor();
    await alice.page.locator('[data-state="pending"]').first().waitFor({ state: 'detached' });
    // Exactly once, for both, even after Bob reloads from the server.
    await expect(message(bob.page, 'offline one').count()).resolves.toBe(1);
    await expect(message(bob.page, 'offline two').count()).resolves.toBe(1);
    await expect(message(alice.page, 'offline one').count()).resolves.toBe(1);
    await bob.page.reload();
    await message(bob.page, 'offline two').waitFor();
    await expect(message(bob.page, 'offline one').count()).resolves.toBe(1);
    await expect(message(bob.page, 'offline two').count()).resolves.toBe(1);
  });

  it('a reload keeps the session and the history', async () => {
    await alice.page.reload();
    await alice.page.getByTestId('conversation-title').getByText('Bob Builder').waitFor();
    await message(alice.page, 'Hi Bob! https://example.com').waitFor();
    const stored = await alice.page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(stored).not.toMatch(/eyJ|accessToken|refreshToken/);
  });

  it('an uploaded image appears inline for both', async () => {
    await alice.page.getByTestId('file-input').setInputFiles({ name: 'red.png', mimeType: 'image/png', buffer: PNG });
    await alice.page.locator('[data-testid="upload"][data-state="done"]').waitFor();
    await alice.page.getByTestId('composer').press('Enter');
    for (const p of [alice.page, bob.page]) {
      const img = p.getByTestId('attachment-image').last();
      await img.waitFor();
      await p.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await img.elementHandle());
    }
  });

  it('unread badge counts and clears', async () => {
    await bob.page.goto('/');
    await send(alice.page, 'unread 1');
    await send(alice.page, 'unread 2');
    const item = bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice Liddell' });
    await item.getByTestId('unread-badge').getByText('2').waitFor();
    await item.click();
    await message(bob.page, 'unread 2').waitFor();
    await item.getByTestId('unread-badge').waitFor({ state: 'detached' });
    await message(alice.page, 'unread 2').getByTestId('seen-by').waitFor();
  });

  it('has no serious accessibility violations, and looks right on desktop and phone', async () => {
    for (const [name, p] of [
      ['conversation', alice.page],
      ['sidebar', bob.page],
    ] as const) {
      if (name === 'sidebar') {
        await p.goto('/');
        await p.getByTestId('conversation-item').first().waitFor();
      }
      const violations = await axe(p);
      if (violations.length) writeFileSync(`${SCREENSHOTS}axe-${name}.json`, JSON.stringify(violations, null, 2));
      expect(violations).toEqual([]);
    }
    await alice.page.screenshot({ path: `${SCREENSHOTS}desktop-conversation.png` });
    await bob.page.screenshot({ path: `${SCREENSHOTS}desktop-list.png` });
    await alice.page.setViewportSize({ width: 390, height: 844 });
    await alice.page.screenshot({ path: `${SCREENSHOTS}phone-conversation.png` });
    await alice.page.goto('/');
    await alice.page.getByTestId('conversation-item').first().waitFor();
    await alice.page.screenshot({ path: `${SCREENSHOTS}phone-list.png` });
    const login = await newUser(browser, baseUrl, { width: 390, height: 844 });
    await login.page.goto('/login');
    await login.page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await axe(login.page)).toEqual([]);
    await login.page.screenshot({ path: `${SCREENSHOTS}phone-login.png` });
    await login.context.close();
  });
});
