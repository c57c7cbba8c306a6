import { SvelteMap } from 'svelte/reactivity';
import type { Attachment } from '@chat/shared/models/types';
import { LIMITS } from '@chat/shared/models/limits';
import { errorMessage } from '../api/errors.ts';
import { putWithProgress } from '../api/upload.ts';
import { newClientMsgId } from '../utils/format.ts';
import { api } from './auth.svelte.ts';

export class Upload {
  readonly id = newClientMsgId();
  progress = $state(0);
  state = $state<'uploading' | 'done' | 'error'>('uploading');
  error = $state<string | null>(null);
  attachment = $state<Attachment | null>(null);
  readonly abort = new AbortController();
  constructor(
    readonly conversationId: string,
    readonly file: File,
    /** The composer it was attached in: the conversation's, or one of its threads' (threads.ts). */
    readonly stream: string = conversationId,
  ) {}
}

/** Files being attached in each composer (keyed by stream: see threads.ts): start, presigned PUT, complete. */
export class UploadsStore {
  #byConversation = new SvelteMap<string, Upload[]>();

  for(stream: string): Upload[] {
    return this.#byConversation.get(stream) ?? [];
  }

  add(conversationId: string, files: Iterable<File>, stream = conversationId) {
    const list = [...this.for(stream)];
    for (const file of files) {
      if (list.length >= LIMITS.attachmentsMax) break;
      const up = new Upload(conversationId, file, stream);
      list.push(up);
      void this.#run(up);
    }
    this.#byConversation.set(stream, list);
  }

  remove(up: Upload) {
    up.abort.abort();
    this.#byConversation.set(
      up.stream,
      this.for(up.stream).filter((u) => u !== up),
    );
  }

  clear(conversationId?: string) {
    if (conversationId) this.#byConversation.delete(conversationId);
    else this.#byConversation.clear();
  }

  async #run(up: Upload) {
    try {
      const ticket = await api.file.start(up.conversationId, up.file);
      await putWithProgress(ticket, up.file, (f) => (up.progress = f), up.abort.signal);
      const { file } = await api.file.complete(ticket.fileId);
      up.attachment = file;
      up.state = 'done';
    } catch (e) {
      up.state = 'error';
      up.error = errorMessage(e);
    }
  }
}
