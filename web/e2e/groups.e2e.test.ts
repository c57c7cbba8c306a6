import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { axe, cspViolations, launch, newUser, SCREENSHOTS, signUp, unique, type Browser, type BrowserContext, type Page } from './browser.ts';

const { baseUrl } = inject('stack');

const systemLine = (page: Page, text: string) => page.getByTestId('system-message').filter({ hasText: text });

/** Group settings: a rename with its system message seen live by another member, and admins. */
describe('group settings and system messages', () => {
  let browser: Browser;
  let alice: { context: BrowserContext; page: Page };
  let bob: { context: BrowserContext; page: Page };
  const a = unique('gralice');
  const b = unique('grbob');

  beforeAll(async () => {
    browser = await launch();
    alice = await newUser(browser, baseUrl);
    bob = await newUser(browser, baseUrl);
    await signUp(alice.page, a, 'Alice Group');
    await signUp(bob.page, b, 'Bob Group');

    // Alice creates the group with Bob through the New group dialog.
    const p = alice.page;
    await p.getByTestId('new-group').click();
    await p.getByLabel('Group name').fill('Planning');
    await p.getByLabel('Add members').fill(b);
    await p.getByTestId('user-result').filter({ hasText: `@${b}` }).click();
    await p.getByRole('button', { name: 'Create group' }).click();
    await p.getByTestId('conversation-title').getByText('Planning').waitFor();
    await systemLine(p, 'You created the group').waitFor();

    await bob.page.getByTestId('conversation-item').filter({ hasText: 'Planning' }).click();
    await systemLine(bob.page, 'Alice Group created the group').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('an admin renames the group; the other member sees the new title and the system line live', async () => {
    const p = alice.page;
    await p.getByTestId('details').click();
    await p.getByRole('heading', { name: 'Group settings' }).waitFor();
    await p.getByTestId('group-name-input').fill('Launch crew');
    await p.getByRole('button', { name: 'Rename' }).click();
    await p.getByTestId('conversation-title').getByText('Launch crew').waitFor();

    // Bob's open conversation: header, sidebar and history change without a reload.
    await bob.page.getByTestId('conversation-title').getByText('Launch crew').waitFor();
    const line = systemLine(bob.page, 'Alice Group renamed the group to “Launch crew”');
    await line.waitFor();
    await bob.page.getByTestId('conversation-item').filter({ hasText: 'Launch crew' }).waitFor();
    // A centered line, not a bubble: no message actions, no sender header.
    expect(await line.locator('button').count()).toBe(0);
    expect(await line.evaluate((el) => getComputedStyle(el).textAlign)).toBe('center');
    // Never unread: Bob's sidebar shows no badge for it.
    expect(await bob.page.getByTestId('conversation-item').filter({ hasText: 'Launch crew' }).getAttribute('class')).not.toMatch(/\bunread\b/);

    expect(await axe(p)).toEqual([]);
    await p.screenshot({ path: `${SCREENSHOTS}group-settings-desktop.png` });
    await bob.page.screenshot({ path: `${SCREENSHOTS}group-rename-seen-by-member-desktop.png` });
    expect(await cspViolations(p)).toEqual([]);
    expect(await cspViolations(bob.page)).toEqual([]);
  });

  it('an admin makes another member admin; the member sees it live and can then rename', async () => {
    const p = alice.page;
    // Bob looks elsewhere this time: in an open conversation nothing is unread anyway.
    await bob.page.goto('/');
    const item = bob.page.getByTestId('conversation-item').filter({ hasText: 'Launch crew' });
    await item.waitFor();
    await p.getByRole('button', { name: 'Make admin: Bob Group' }).click();
    await p.getByRole('button', { name: 'Remove admin: Bob Group' }).waitFor();
    await p.getByRole('button', { name: 'Close' }).click();
    // The system line reaches his sidebar as its preview, and is never unread there.
    await item.filter({ hasText: 'made you an admin' }).waitFor();
    expect(await item.getAttribute('class')).not.toMatch(/\bunread\b/);
    expect(await item.getByTestId('unread-badge').count()).toBe(0);
    await item.click();
    await systemLine(bob.page, 'Alice Group made you an admin').waitFor();
    await systemLine(p, 'You made Bob Group an admin').waitFor();

    await bob.page.getByTestId('details').click();
    await bob.page.getByTestId('group-name-input').waitFor();
    expect(await axe(bob.page)).toEqual([]);
    await bob.page.getByRole('button', { name: 'Close' }).click();
  });

  it('phone size, light and dark', async () => {
    for (const s of [alice.page, bob.page]) await s.setViewportSize({ width: 390, height: 844 });
    await systemLine(bob.page, 'renamed the group').waitFor();
    await bob.page.screenshot({ path: `${SCREENSHOTS}group-rename-seen-by-member-phone.png` });
    await bob.page.emulateMedia({ colorScheme: 'dark' });
    await bob.page.screenshot({ path: `${SCREENSHOTS}group-rename-seen-by-member-phone-dark.png` });
    await alice.page.emulateMedia({ colorScheme: 'dark' });
    await alice.page.getByTestId('details').click();
    await alice.page.getByTestId('group-name-input').waitFor();
    expect(await axe(alice.page)).toEqual([]);
    await alice.page.screenshot({ path: `${SCREENSHOTS}group-settings-phone-dark.png` });
    await alice.page.getByRole('button', { name: 'Close' }).click();
  });
});
