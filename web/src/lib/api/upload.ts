import { ApiError } from './errors.ts';
import type { UploadTicket } from './endpoints.ts';

/** PUTs the bytes straight to object storage with XHR, because fetch has no upload progress. */
export function putWithProgress(
  ticket: UploadTicket,
  file: Blob,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(ticket.method || 'PUT', ticket.uploadUrl);
    for (const [k, v] of Object.entries(ticket.headers ?? {})) {
      // Browsers set these themselves and refuse scripts that try.
      if (!/^(content-length|host|connection)$/i.test(k)) xhr.setRequestHeader(k, v);
    }
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else reject(new ApiError('internal', `Upload failed (${xhr.status}).`, xhr.status));
    };
    xhr.onerror = () => reject(new ApiError('network', 'Upload failed: network error.', 0));
    xhr.onabort = () => reject(new ApiError('network', 'Upload cancelled.', 0));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}
