import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cspViolations, launch, newUser, openDirect, SCREENSHOTS, send, signUp, unique, type Browser, type BrowserContext, type Page } from './browser.ts';

const { baseUrl } = inject('stack');

/** The profile screen, and a change to it seen live by another user. */
describe('profile: name, avatar and password', () => {
  let browser: Browser;
  let alice: { context: BrowserContext; page: Page };
  let bob: { context: BrowserContext; page: Page };
  const a = unique('pralice');
  const b = unique('prbob');

  beforeAll(async () => {
    browser = await launch();
    alice = await newUser(browser, baseUrl);
    bob = await newUser(browser, baseUrl);
    await signUp(alice.page, a, 'Alice Profile');
    await signUp(bob.page, b, 'Bob Profile');
    await openDirect(alice.page, b);
    await send(alice.page, 'profile hello');
    await bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice Profile' }).click();
    await bob.page.getByTestId('message-body').getByText('profile hello').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('a new name and avatar show up for the other member without a reload', async () => {
    const p = alice.page;
    await p.getByTestId('account-menu').click();
    await p.getByTestId('open-profile').click();
    await p.getByTestId('profile').waitFor();
    await p.getByTestId('display-name').fill('Alice Renamed');
    await p.getByTestId('save-name').click();
    await p.getByTestId('profile-name').getByText('Alice Renamed').waitFor();

    const png = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 30, g: 140, b: 200 } } }).png().toBuffer();
    await p.getByTestId('avatar-input').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
    await p.getByText('Avatar updated.').waitFor();

    // Bob's open conversation: the title and the header avatar change live.
    await bob.page.getByTestId('conversation-title').getByText('Alice Renamed').waitFor();
    const img = bob.page.getByTestId('conversation-view').locator('header [data-testid="avatar-img"]');
    await img.waitFor();
    expect(await img.getAttribute('src')).toMatch(/^\/api\/file\/avatars\/[0-9a-f]{24}\/[0-9a-f-]{36}\.webp$/);
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(256);
    expect(await bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice Renamed' }).count()).toBe(1);
    // Loaded under the app's CSP without a violation, on both sides.
    expect(await cspViolations(bob.page)).toEqual([]);
    expect(await cspViolations(p)).toEqual([]);

    await bob.page.screenshot({ path: `${SCREENSHOTS}profile-seen-by-other-desktop.png` });
    await p.screenshot({ path: `${SCREENSHOTS}profile-desktop.png` });
    await p.setViewportSize({ width: 390, height: 844 });
    await bob.page.setViewportSize({ width: 390, height: 844 });
    await p.getByTestId('profile').waitFor();
    await p.screenshot({ path: `${SCREENSHOTS}profile-phone.png` });
    await bob.page.screenshot({ path: `${SCREENSHOTS}profile-seen-by-other-phone.png` });
    await p.setViewportSize({ width: 1280, height: 800 });
  });

  it('a password change says the other sessions are signed out, and refuses a wrong current password', async () => {
    const p = alice.page;
    await p.getByTestId('current-password').fill('not my password');
    await p.getByTestId('new-password').fill('a new passphrase');
    await p.getByTestId('change-password').click();
    await p.getByTestId('password-status').getByText('The current password is wrong.').waitFor();

    // A second session of Alice's (another browser context) is signed out by the change.
    const other = await newUser(browser, baseUrl);
    await other.page.goto('/login');
    await other.page.getByLabel('Username').fill(a);
    await other.page.getByLabel('Password').fill('correct horse battery');
    await other.page.getByRole('button', { name: 'Sign in' }).click();
    await other.page.getByRole('navigation', { name: 'Conversations' }).waitFor();

    await p.getByTestId('current-password').fill('correct horse battery');
    await p.getByTestId('new-password').fill('a new passphrase');
    await p.getByTestId('change-password').click();
    await p.getByTestId('password-status').getByText('Password changed. Your other sessions are signed out.').waitFor();
    const refreshed = await other.page.evaluate(async () => (await fetch('/api/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
    expect(refreshed).toBe(401);
    // This session still renews.
    expect(await p.evaluate(async () => (await fetch('/api/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status)).toBe(200);
    await other.context.close();
  });
});
