import type { User } from '@chat/shared/models/types';
import { ApiClient } from '../api/client.ts';
import { endpoints, type RefreshResponse } from '../api/endpoints.ts';
import { ApiError } from '../api/errors.ts';
import { tokenSubject } from '../utils/jwt.ts';
import { RenewalScheduler } from './renewal.ts';

export type AuthStatus = 'loading' | 'signedIn' | 'signedOut';
type TokenListener = (token: string) => void;

/** Runs `fn` with a cross-tab lock so two tabs never spend the same refresh cookie at once. */
async function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks?.request) return fn();
  return locks.request('chat-auth-refresh', fn) as Promise<T>;
}

/** Set by the auth function beside the refresh cookie (see docs/web.md, "Session hint"). */
export const SESSION_HINT_COOKIE = 'chat_session';

export function hasSessionHint(cookies = globalThis.document?.cookie ?? ''): boolean {
  return cookies.split(';').some((c) => c.trim().startsWith(`${SESSION_HINT_COOKIE}=1`));
}

/**
 * The session. The access token lives only in this object's memory; the refresh token lives
 * only in the httpOnly cookie the auth function sets (the body copy is ignored), so a reload
 * restores the session through POST /api/auth/refresh and nothing script-readable outlives the page.
 */
class AuthStore {
  /** Known from the access token, so a restored session renders before `/me` fills `user`. */
  userId = $state<string | null>(null);
  user = $state<User | null>(null);
  status = $state<AuthStatus>('loading');

  #token: string | null = null;
  #refreshing: Promise<string | null> | null = null;
  #listeners = new Set<TokenListener>();
  #scheduler = new RenewalScheduler(async () => {
    const res = await this.#refreshOnce(true);
    return res ? res.expiresIn : null;
  });

  readonly api = new ApiClient({ token: () => this.#token, renew: () => this.renew() });
  readonly ep = endpoints(this.api);

  get token(): string | null {
    return this.#token;
  }

  onToken(fn: TokenListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #init: Promise<void> | null = null;

  /** On app load: restore the session from the refresh cookie, if any. Runs once. */
  init(): Promise<void> {
    return (this.#init ??= this.#restore());
  }

  /** Called with the first access token of a restored session, before /me answers. */
  onRestore(fn: () => void) {
    this.#onRestore.add(fn);
  }
  #onRestore = new Set<() => void>();

  async #restore(): Promise<void> {
    if (this.status !== 'loading') return;
    // The refresh cookie is httpOnly; its readable hint says whether asking is worth a request
    // (a signed-out visit would otherwise start with a 401 in the console).
    if (!hasSessionHint()) return this.#signedOut();
    try {
      const res = await this.#refreshOnce(false);
      if (!res) return this.#signedOut();
      for (const fn of this.#onRestore) fn();
      // The app renders now: what needs my profile (the sidebar's footer, the profile screen)
      // waits for it, the rest needs only my id.
      if (this.userId) this.status = 'signedIn';
      const { user } = await this.ep.auth.me();
      this.user = user;
      this.userId = user.id;
      this.status = 'signedIn';
    } catch {
      this.#signedOut();
    }
  }

  async login(username: string, password: string) {
    const s = await this.ep.auth.login(username, password);
    this.#accept(s.accessToken, s.expiresIn);
    this.user = s.user;
    this.userId = s.user.id;
    this.status = 'signedIn';
  }

  async register(username: string, password: string, displayName?: string) {
    const s = await this.ep.auth.register(username, password, displayName);
    this.#accept(s.accessToken, s.expiresIn);
    this.user = s.user;
    this.userId = s.user.id;
    this.status = 'signedIn';
  }

  async logout() {
    try {
      await this.ep.auth.logout();
    } catch {
      /* the local session ends anyway */
    }
    this.#signedOut();
  }

  /** A fresh access token now (after a 401, or a socket `auth:expiring`); null if the session is gone. */
  async renew(): Promise<string | null> {
    if (this.status === 'signedOut') return null;
    try {
      const res = await this.#refreshOnce(true);
      return res?.accessToken ?? null;
    } catch {
      return null;
    }
  }

  /** One refresh at a time in this tab, and one at a time across tabs. */
  #refreshOnce(signOutOn401: boolean): Promise<RefreshResponse | null> {
    const run = async () => {
      try {
        const res = await withRefreshLock(() => this.ep.auth.refresh());
        this.#accept(res.accessToken, res.expiresIn);
        return res;
      } catch (e) {
        if (e instanceof ApiError && (e.status === 401 || e.status === 400)) {
          if (signOutOn401) this.#signedOut();
          return null;
        }
        throw e;
      }
    };
    if (!this.#refreshing) {
      this.#refreshing = run()
        .then((r) => r?.accessToken ?? null)
        .finally(() => {
          queueMicrotask(() => (this.#refreshing = null));
        });
    }
    const token = this.#refreshing;
    return token.then((t) => (t ? ({ accessToken: t, refreshToken: '', expiresIn: this.#lastExpiresIn } as RefreshResponse) : null));
  }

  #lastExpiresIn = 0;

  #accept(token: string, expiresIn: number) {
    this.#token = token;
    this.userId = tokenSubject(token) ?? this.userId;
    this.#lastExpiresIn = expiresIn;
    this.#scheduler.schedule(expiresIn);
    for (const fn of this.#listeners) fn(token);
  }

  #signedOut() {
    this.#scheduler.cancel();
    this.#token = null;
    this.userId = null;
    this.user = null;
    this.status = 'signedOut';
  }
}

export const auth = new AuthStore();
export const api = auth.ep;
