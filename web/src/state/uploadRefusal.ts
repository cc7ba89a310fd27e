// Why an upload was refused, in words the user can act on, and whether trying again can help:
// the server's error code (and the file's type) mapped to a message key. Pure.

import type { MessageKey } from "../i18n/catalog";

export interface UploadProblem {
  key: MessageKey;
  /** The same file will be refused again: no retry button, only remove. */
  permanent: boolean;
}

const TOO_LARGE = new Set(["file_too_large", "payload_too_large", "image_too_large", "video_header_too_large"]);
const BAD_TYPE = new Set(["unsupported_type", "dangerous_type", "type_mismatch"]);
const DAMAGED = new Set(["truncated_image", "corrupt_image", "unsupported_image_feature", "malformed_video", "encode_failed"]);

/** The message and permanence of a failed upload of a file of `fileType` refused with `code`. */
export function uploadProblem(code: string | undefined, fileType: string): UploadProblem {
  const permanent = (key: MessageKey): UploadProblem => ({ key, permanent: true });
  if (!code) return { key: "attach.failed", permanent: false };
  if (TOO_LARGE.has(code)) return permanent("attach.tooLarge");
  if (code === "file_type_not_allowed") return permanent(fileType.startsWith("video/") ? "attach.videoDisabled" : "attach.typeNotAllowed");
  if (BAD_TYPE.has(code)) return permanent("attach.badType");
  if (DAMAGED.has(code)) return permanent("attach.damaged");
  if (code === "empty_file") return permanent("attach.empty");
  if (code === "invalid_file_name") return permanent("attach.badName");
  if (code === "forbidden") return permanent("attach.forbidden");
  // Network trouble, an interrupted upload, a busy or restarting server: worth another try.
  return { key: "attach.failed", permanent: false };
}
