import { SvelteMap } from 'svelte/reactivity';
import type { Attachment } from '@chat/shared/models/types';
import { LIMITS } from '@chat/shared/models/limits';
import { errorMessage } from '../api/errors.ts';
import { putWithProgress } from '../api/upload.ts';
import { newClientMsgId } from '../utils/format.ts';
import { api } from './auth.svelte.ts';
import { conversationOf } from './threads.ts';

export class Upload {
  readonly id = newClientMsgId();
  progress = $state(0);
  state = $state<'uploading' | 'done' | 'error'>('uploading');
  error = $state<string | null>(null);
  attachment = $state<Attachment | null>(null);
  readonly abort = new AbortController();
  /** The conversation the file is uploaded to (the stream's: a thread's files are its conversation's). */
  readonly conversationId: string;
  constructor(
    /** The composer it was attached in: the conversation's, or one of its threads' (threads.ts). */
    readonly stream: string,
    readonly file: File,
  ) {
    this.conversationId = conversationOf(stream);
  }
}

/** Files being attached in each composer (keyed by stream: see threads.ts): start, presigned PUT, complete. */
export class UploadsStore {
  #byStream = new SvelteMap<string, Upload[]>();

  for(stream: string): Upload[] {
    return this.#byStream.get(stream) ?? [];
  }

  add(stream: string, files: Iterable<File>) {
    const list = [...this.for(stream)];
    for (const file of files) {
      if (list.length >= LIMITS.attachmentsMax) break;
      const up = new Upload(stream, file);
      list.push(up);
      void this.#run(up);
    }
    this.#byStream.set(stream, list);
  }

  remove(up: Upload) {
    up.abort.abort();
    this.#byStream.set(
      up.stream,
      this.for(up.stream).filter((u) => u !== up),
    );
  }

  /** Empties one composer's tray (its files went out with the message). */
  clearStream(stream: string) {
    this.#byStream.delete(stream);
  }

  /** Forgets a conversation's uploads, its threads' included (or every upload). */
  forget(conversationId?: string) {
    if (!conversationId) return this.#byStream.clear();
    for (const stream of [...this.#byStream.keys()]) if (conversationOf(stream) === conversationId) this.#byStream.delete(stream);
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
