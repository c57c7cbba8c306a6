import { HERE, mentionNames, resolveMentions } from '@chat/shared/mentions/mentions';

/**
 * Turns a body's `@names` into member ids when the gateway accepts a message or an edit. Usernames
 * never change, so each member's is looked up once (by `_id`, in parallel: FerretDB has no
 * pushed-down `$in`) and kept; a body without "@" costs nothing.
 */
export class MentionResolver {
  private readonly usernames = new Map<string, string>();

  constructor(
    private readonly deps: {
      users: { findByIds(ids: string[]): Promise<Array<{ id: string; username: string }>> };
      presence: { onlineAmong(ids: string[]): Promise<Set<string>> };
      maxCached?: number;
    },
  ) {}

  async resolve(body: string, members: ReadonlySet<string>, senderId: string): Promise<string[]> {
    if (!body.includes('@')) return [];
    const names = mentionNames(body);
    if (names.length === 0) return [];
    const ids = [...members];
    const missing = ids.filter((id) => !this.usernames.has(id));
    if (missing.length > 0) {
      for (const u of await this.deps.users.findByIds(missing)) this.remember(u.id, u.username);
    }
    const known = ids.flatMap((id) => {
      const username = this.usernames.get(id);
      return username ? [{ id, username }] : [];
    });
    const online = names.includes(HERE) ? await this.deps.presence.onlineAmong(ids) : undefined;
    return resolveMentions(names, known, { senderId, ...(online ? { online } : {}) });
  }

  private remember(id: string, username: string): void {
    if (this.usernames.size >= (this.deps.maxCached ?? 100_000)) this.usernames.delete(this.usernames.keys().next().value!);
    this.usernames.set(id, username);
  }
}
