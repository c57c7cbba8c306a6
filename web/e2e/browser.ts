import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { AuthSession } from '@chat/shared/models/types';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
mkdirSync(SCREENSHOTS, { recursive: true });

/** Debian's Chromium, never a downloaded browser. */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

export async function newUser(browser: Browser, baseUrl: string, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ baseURL: baseUrl, viewport });
  await recordCspViolations(context);
  const page = await context.newPage();
  return { context, page };
}

/**
 * Every page of the context records what the Content-Security-Policy blocked (the DOM's
 * securitypolicyviolation events, which survive in the page until it navigates, and the console
 * errors Chromium logs for them, which survive navigation). Read with cspViolations(page).
 */
const consoleCsp = new WeakMap<Page, string[]>();
async function recordCspViolations(context: BrowserContext) {
  // An init script runs through the DevTools protocol, outside the page's CSP.
  await context.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
  });
  context.on('page', (page) => watchConsole(page));
  for (const page of context.pages()) watchConsole(page);
}
function watchConsole(page: Page) {
  const seen: string[] = [];
  consoleCsp.set(page, seen);
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Permissions-Policy|Refused to/i.test(m.text())) seen.push(m.text());
  });
}
export async function cspViolations(page: Page): Promise<string[]> {
  const dom = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
  return [...new Set([...(consoleCsp.get(page) ?? []), ...dom])];
}

/** A 1x1 red PNG, for uploads. */
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

export const unique = (p: string) => `${p}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

export async function signUp(page: Page, username: string, displayName: string, password = 'correct horse battery') {
  await page.goto('/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name (optional)').fill(displayName);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
}

/**
 * Svelte's runtime warnings (derived_inert when a conversation is switched, and the like) from
 * every page signIn opened: the production build logs each as a link to svelte.dev/e/<code>.
 */
export const svelteWarnings: string[] = [];

/** Someone registered through the API (test/api.ts registerUser), with the password to sign in with. */
export type Person = AuthSession & { password: string };

type Who = { user: { username: string }; password: string };

/** A new page of the context, signed in through the login form (its errors go to the test's log). */
export async function signIn(context: BrowserContext, who: Who): Promise<Page> {
  const page = await context.newPage();
  await logIn(page, who);
  return page;
}

/** Signs an open page in through the login form (its errors go to the test's log). */
export async function logIn(page: Page, who: Who): Promise<void> {
  page.on('pageerror', (e) => console.log(`PAGEERROR ${who.user.username}: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && console.log(`CONSOLE ${who.user.username}: ${m.text()}`));
  page.on('console', (m) => /svelte\.dev\/e\/|\[svelte\]/.test(m.text()) && svelteWarnings.push(`${who.user.username} ${page.url()}: ${m.text()}`));
  await page.goto('/login');
  await page.getByLabel('Username').fill(who.user.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
}

export async function openDirect(page: Page, username: string) {
  await page.getByLabel('Find people to message').fill(username);
  await page.getByTestId('user-result').filter({ hasText: `@${username}` }).click();
  await page.getByTestId('composer').waitFor();
}

export async function send(page: Page, text: string) {
  const box = page.getByTestId('composer');
  await box.fill(text);
  await box.press('Enter');
}

export function message(page: Page, text: string) {
  return page.getByTestId('message').filter({ has: page.getByTestId('message-body').getByText(text, { exact: true }) });
}

/** axe-core in the page; returns serious/critical violations. */
export async function axe(page: Page) {
  const require = createRequire(import.meta.url);
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol: an inline <script> tag would be refused by the CSP.
  await page.evaluate(source);
  const result = (await page.evaluate(async () => {
    // @ts-expect-error injected global
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v: { id: string; impact: string; help: string; nodes: { target: string[] }[] }) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  })) as { id: string; impact: string; help: string; targets: string[] }[];
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export type { Browser, BrowserContext, Page };
