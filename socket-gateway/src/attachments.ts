import { errors } from '@chat/shared/errors';
import type { AttachmentResolver } from './messaging.service.ts';

/**
 * Attachments must be completed uploads of the same conversation. Until the file function's
 * records exist in this deployment, any attachment id is refused rather than trusted.
 */
export const refuseAttachments: AttachmentResolver = async () => {
  throw errors.invalid('attachments: no such completed file in this conversation');
};
