import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Message } from '@chat/shared/models/types';
import { allMessages, api, registerUser } from '../../test/api.ts';
import { eventually } from '../../test/bus.ts';
import { connectAs, request, type ClientSocket } from '../../test/socket.ts';
import type { Locator } from 'playwright-core';
import { axe, launch, SCREENSHOTS, signIn, type Browser, type BrowserContext, type Page, type Person } from './browser.ts';

/**
 * Threads in the web app (issue 18): two people in one thread, at desktop and phone sizes.
 * Reply in thread from the hover toolbar and the phone's action sheet, the panel (side panel on
 * a desktop, full screen on a phone), the root's live "N replies", "also send to channel", the
 * Threads view's unread badge, and exactly-once sends from the thread's composer while offline.
 */
const { baseUrl } = inject('stack');

const sockets: ClientSocket[] = [];
let browser: Browser;
let ann: Person, ben: Person;
let conv: string;
let rootId: string;

/** A message in one part of the page (the channel or the thread panel). */
const msg = (scope: Locator, text: string) => scope.getByTestId('message').filter({ has: scope.page().getByTestId('message-body').getByText(text, { exact: true }) });
const channel = (page: Page) => page.getByTestId('conversation-view');
const panel = (page: Page) => page.getByTestId('thread-panel');

async function reply(page: Page, text: string) {
  const box = panel(page).getByTestId('composer');
  await box.fill(text);
  await box.press('Enter');
}

/** The thread's replies as stored (they are stored a moment after their ack). */
async function storedReplies(token: string): Promise<Message[]> {
  const res = await api('GET', `/api/db/conversations/${conv}/threads/${rootId}/messages?limit=100`, { token });
  expect(res.status).toBe(200);
  return res.body.messages as Message[];
}
const repliesStored = (n: number) =>
  eventually(
    async () => {
      const all = await storedReplies(ann.accessToken);
      return all.length >= n ? all : undefined;
    },
    `${n} stored replies`,
    60_000,
    200,
  );

beforeAll(async () => {
  [browser, ann, ben] = await Promise.all([launch(), registerUser(), registerUser()]);
  const res = await api('POST', '/api/db/conversations', { token: ann.accessToken, body: { type: 'group', title: 'Release train', memberIds: [ben.user.id] } });
  expect(res.status).toBe(201);
  conv = res.body.conversation.id;
  const s = await connectAs(ann.accessToken);
  sockets.push(s);
  for (const body of ['Morning all', 'Who owns the release notes this week?']) {
    const ack = await request(s, 'message:send', { conversationId: conv, clientMsgId: `${ann.user.id}-${body.length}`, body });
    if (!ack.ok) throw new Error(JSON.stringify(ack.error));
    rootId = ack.message.id;
  }
  await eventually(async () => ((await allMessages(ann.accessToken, conv)).length >= 2 ? true : undefined), 'the root stored', 60_000, 200);
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await browser?.close();
});

describe('two people in one thread on desktops', () => {
  let ctxA: BrowserContext, ctxB: BrowserContext;
  let pageA: Page, pageB: Page;
  const ROOT = 'Who owns the release notes this week?';

  beforeAll(async () => {
    ctxA = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 800 } });
    ctxB = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 800 } });
    [pageA, pageB] = await Promise.all([signIn(ctxA, ann), signIn(ctxB, ben)]);
    await Promise.all([pageA.goto(`/c/${conv}`), pageB.goto(`/c/${conv}`)]);
    await Promise.all([msg(channel(pageA), ROOT).waitFor(), msg(channel(pageB), ROOT).waitFor()]);
  });

  afterAll(async () => {
    await ctxA?.close();
    await ctxB?.close();
  });

  it('"Reply in thread" opens a side panel; a reply there stays out of the channel and the root counts it live', async () => {
    const root = msg(channel(pageB), ROOT);
    await root.hover();
    await root.getByTestId('reply-in-thread').click();
    await panel(pageB).waitFor();
    await msg(panel(pageB), ROOT).waitFor();
    expect(new URL(pageB.url()).searchParams.get('thread')).toBe(rootId);
    // Side by side: the channel keeps its place beside the panel.
    const [c, p] = [(await channel(pageB).boundingBox())!, (await panel(pageB).boundingBox())!];
    expect(p.x).toBeGreaterThanOrEqual(c.x + c.width - 1);
    expect(p.height).toBeGreaterThan(600);

    await reply(pageB, 'I can take them, **draft** by noon');
    await msg(panel(pageB), 'I can take them, draft by noon').and(panel(pageB).locator('[data-state="sent"]')).waitFor();
    // Markdown renders in the panel.
    await msg(panel(pageB), 'I can take them, draft by noon').locator('strong', { hasText: 'draft' }).waitFor();
    // Ann, in the channel: the root says "1 reply" with Ben's avatar, and the reply is not in her channel.
    const summaryA = msg(channel(pageA), ROOT).getByTestId('thread-summary');
    await summaryA.getByText('1 reply').waitFor();
    expect(await msg(channel(pageA), 'I can take them, draft by noon').count()).toBe(0);
    expect(await msg(channel(pageB), 'I can take them, draft by noon').count()).toBe(0);
    await msg(channel(pageB), ROOT).getByTestId('thread-summary').getByText('1 reply').waitFor();
    await pageB.screenshot({ path: `${SCREENSHOTS}desktop-thread-panel.png` });
    expect(await axe(pageB)).toEqual([]);
  });

  it('both in the panel: replies arrive live both ways, "Also send to channel" shows one in the channel too', async () => {
    await msg(channel(pageA), ROOT).getByTestId('thread-summary').click();
    await msg(panel(pageA), 'I can take them, draft by noon').waitFor();

    // Ben starts typing: Ann sees it in the thread.
    await panel(pageB).getByTestId('composer').pressSequentially('ok', { delay: 20 });
    await panel(pageA).getByTestId('typing-indicator').getByText(`${ben.user.displayName} is typing…`).waitFor();
    // The channel's indicator is for the channel: typing in a thread stays in its panel.
    expect(await channel(pageA).getByTestId('typing-indicator').textContent()).not.toContain('is typing');
    await panel(pageB).getByTestId('composer').fill('');

    await reply(pageA, 'Thanks! Ping me when it is up');
    await msg(panel(pageB), 'Thanks! Ping me when it is up').waitFor();

    await panel(pageB).getByTestId('also-to-channel').getByRole('checkbox').check();
    await reply(pageB, 'Draft is up for everyone to read');
    await msg(panel(pageA), 'Draft is up for everyone to read').waitFor();
    const inChannel = msg(channel(pageA), 'Draft is up for everyone to read');
    await inChannel.waitFor();
    await inChannel.getByTestId('also-in-thread').waitFor();
    await msg(channel(pageA), ROOT).getByTestId('thread-summary').getByText('3 replies').waitFor();
    await msg(channel(pageB), ROOT).getByTestId('thread-summary').getByText('3 replies').waitFor();
    // The checkbox is for one reply only.
    expect(await panel(pageB).getByTestId('also-to-channel').getByRole('checkbox').isChecked()).toBe(false);

    const stored = await repliesStored(3);
    expect(stored.map((m) => m.body)).toEqual(['I can take them, **draft** by noon', 'Thanks! Ping me when it is up', 'Draft is up for everyone to read']);
    const channelStored = await allMessages(ann.accessToken, conv);
    expect(channelStored.map((m) => m.body)).toEqual(['Morning all', ROOT, 'Draft is up for everyone to read']);
    await pageA.screenshot({ path: `${SCREENSHOTS}desktop-thread-both.png` });
  });

  it('replies written offline in the thread are sent exactly once when the connection is back', async () => {
    await ctxA.setOffline(true);
    await pageA.getByTestId('connection-banner').waitFor();
    await reply(pageA, 'offline thread one');
    await reply(pageA, 'offline thread two');
    await msg(panel(pageA), 'offline thread two').and(panel(pageA).locator('[data-state="pending"]')).waitFor();
    await ctxA.setOffline(false);
    await msg(panel(pageB), 'offline thread one').waitFor();
    await msg(panel(pageB), 'offline thread two').waitFor();
    const stored = await repliesStored(5);
    expect(stored.filter((m) => m.body.startsWith('offline thread')).map((m) => m.body)).toEqual(['offline thread one', 'offline thread two']);
    expect(await msg(panel(pageA), 'offline thread one').count()).toBe(1);
    expect(await msg(panel(pageB), 'offline thread one').count()).toBe(1);
    await msg(channel(pageB), ROOT).getByTestId('thread-summary').getByText('5 replies').waitFor();
  });

  it('the Threads view lists a followed thread with unread replies; reading it clears the badge', async () => {
    // Ann started the thread and replied in it: she follows it. She leaves it, Ben replies.
    await panel(pageA).getByTestId('close-thread').click();
    await panel(pageA).waitFor({ state: 'detached' });
    await reply(pageB, 'Final version attached');
    await pageA.getByTestId('threads-badge').getByText('1').waitFor();
    await pageA.getByTestId('threads-link').click();
    const entry = pageA.getByTestId('thread-item').filter({ hasText: ROOT });
    await entry.getByTestId('thread-unread').getByText('1 new').waitFor();
    await pageA.screenshot({ path: `${SCREENSHOTS}desktop-threads-view.png` });
    expect(await axe(pageA)).toEqual([]);

    await entry.click();
    await msg(panel(pageA), 'Final version attached').waitFor();
    await pageA.getByTestId('threads-badge').waitFor({ state: 'detached' });
    // The read is the server's too: a fresh load lists nothing unread.
    await eventually(
      async () => {
        const res = await api('GET', '/api/db/threads?unread=true', { token: ann.accessToken });
        return res.status === 200 && res.body.threads.length === 0 ? true : undefined;
      },
      "ann's thread read stored",
      20_000,
      200,
    );
    await pageA.goto('/threads');
    await pageA.getByTestId('threads-empty').waitFor();
  });
});

describe('a long thread pages like the channel', () => {
  let ctx: BrowserContext;
  let page: Page;
  let longRoot: string;
  const N = 70;

  beforeAll(async () => {
    const s = sockets[0]!;
    const root = await request(s, 'message:send', { conversationId: conv, clientMsgId: `${ann.user.id}-long-root`, body: 'Retro notes, one reply each' });
    if (!root.ok) throw new Error(JSON.stringify(root.error));
    longRoot = root.message.id;
    // Four writers, so that no one passes the gateway's send rate limit.
    const more = await Promise.all([registerUser(), registerUser()]);
    expect((await api('POST', `/api/db/conversations/${conv}/members`, { token: ann.accessToken, body: { userIds: more.map((p) => p.user.id) } })).status).toBeLessThan(300);
    const writers = [s, ...(await Promise.all([ben, ...more].map((p) => connectAs(p.accessToken))))];
    sockets.push(...writers.slice(1));
    for (let i = 0; i < N; i++) {
      const ack = await request(writers[i % writers.length]!, 'message:send', { conversationId: conv, clientMsgId: `long-${longRoot}-${i}`, body: `note ${String(i).padStart(3, '0')}`, threadRootId: longRoot });
      if (!ack.ok) throw new Error(JSON.stringify(ack.error));
    }
    await eventually(
      async () => {
        const res = await api('GET', `/api/db/conversations/${conv}/threads/${longRoot}/messages?limit=1`, { token: ben.accessToken });
        return res.body.root?.thread?.replyCount === N ? true : undefined;
      },
      `${N} replies stored`,
      60_000,
      200,
    );
    ctx = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 800 } });
    page = await signIn(ctx, ben);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('opens at the newest reply; scrolling up pages older replies in under the root, each once, the view held in place', async () => {
    await page.goto(`/c/${conv}?thread=${longRoot}`);
    const list = panel(page).getByTestId('message-list');
    await msg(panel(page), `note ${String(N - 1).padStart(3, '0')}`).waitFor();
    expect(await list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThanOrEqual(24);
    expect(await msg(panel(page), 'note 000').count()).toBe(0);
    // Scrolled up to put one reply at the top, near enough to the start for the older page to
    // load: it comes in above that reply, which stays exactly where it was on screen.
    const target = msg(panel(page), 'note 030');
    await target.evaluate((el) => {
      const vp = el.closest('[data-testid="message-list"]')!;
      vp.scrollTop += el.getBoundingClientRect().top - vp.getBoundingClientRect().top;
    });
    const before = (await target.boundingBox())!.y;
    await msg(panel(page), 'note 000').waitFor({ state: 'attached' });
    await list.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    expect(Math.abs((await target.boundingBox())!.y - before)).toBeLessThanOrEqual(2);
    await list.evaluate((el) => (el.scrollTop = 0));
    await panel(page).getByText('Retro notes, one reply each', { exact: true }).waitFor();
    const bodies = (await panel(page).getByTestId('message-body').allTextContents()).map((t) => t.trim());
    expect(bodies[0]).toBe('Retro notes, one reply each');
    expect(bodies.slice(1)).toEqual(Array.from({ length: N }, (_, i) => `note ${String(i).padStart(3, '0')}`));
    // The channel shows the root with its count, none of the replies.
    await msg(channel(page), 'Retro notes, one reply each').getByTestId('thread-summary').getByText(`${N} replies`).waitFor();
    expect(await msg(channel(page), 'note 000').count()).toBe(0);
  });
});

describe('a thread on a phone', () => {
  let ctxP: BrowserContext, ctxA: BrowserContext;
  let pageP: Page, pageA: Page;
  const ROOT = 'Who owns the release notes this week?';

  beforeAll(async () => {
    ctxP = await browser.newContext({ baseURL: baseUrl, viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    ctxA = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 800 } });
    [pageP, pageA] = await Promise.all([signIn(ctxP, ben), signIn(ctxA, ann)]);
    await Promise.all([pageP.goto(`/c/${conv}`), pageA.goto(`/c/${conv}?thread=${rootId}`)]);
    await msg(channel(pageP), ROOT).waitFor();
    await msg(panel(pageA), 'Final version attached').waitFor();
  });

  afterAll(async () => {
    await ctxP?.close();
    await ctxA?.close();
  });

  it('the action sheet offers "Reply in thread"; the thread takes the whole screen; Back returns to the channel', async () => {
    await msg(channel(pageP), ROOT).getByTestId('message-body').tap();
    const sheet = pageP.getByTestId('message-actions');
    await sheet.getByTestId('sheet-reply-in-thread').waitFor();
    const box = (await sheet.getByTestId('sheet-reply-in-thread').boundingBox())!;
    expect(box.height).toBeGreaterThanOrEqual(44);
    await sheet.getByTestId('sheet-reply-in-thread').tap();
    await panel(pageP).waitFor();
    await msg(panel(pageP), 'Final version attached').waitFor();
    expect(await channel(pageP).isVisible()).toBe(false);
    const p = (await panel(pageP).boundingBox())!;
    expect(p.width).toBe(390);

    await reply(pageP, 'Reviewed on my phone, ship it');
    await msg(panel(pageA), 'Reviewed on my phone, ship it').waitFor();
    await reply(pageA, 'Shipping now');
    await msg(panel(pageP), 'Shipping now').waitFor();
    await pageP.screenshot({ path: `${SCREENSHOTS}phone-thread.png` });
    expect(await axe(pageP)).toEqual([]);

    await panel(pageP).getByTestId('close-thread').tap();
    await msg(channel(pageP), ROOT).getByTestId('thread-summary').getByText('8 replies').waitFor();
    await pageP.screenshot({ path: `${SCREENSHOTS}phone-thread-summary.png` });
  });
});
