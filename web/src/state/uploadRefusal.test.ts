import { describe, expect, it } from "vitest";
import { uploadProblem } from "./uploadRefusal";
import { translate } from "../i18n/i18n";

describe("upload refusals", () => {
  it("says why a file is refused, and offers no retry for it", () => {
    expect(uploadProblem("payload_too_large", "image/jpeg")).toEqual({ key: "attach.tooLarge", permanent: true });
    expect(uploadProblem("file_too_large", "application/pdf")).toEqual({ key: "attach.tooLarge", permanent: true });
    expect(uploadProblem("file_type_not_allowed", "video/mp4")).toEqual({ key: "attach.videoDisabled", permanent: true });
    expect(uploadProblem("file_type_not_allowed", "application/pdf")).toEqual({ key: "attach.typeNotAllowed", permanent: true });
    expect(uploadProblem("dangerous_type", "application/x-msdownload")).toEqual({ key: "attach.badType", permanent: true });
    expect(uploadProblem("unsupported_type", "image/heic")).toEqual({ key: "attach.badType", permanent: true });
    expect(uploadProblem("corrupt_image", "image/jpeg")).toEqual({ key: "attach.damaged", permanent: true });
    expect(uploadProblem("empty_file", "")).toEqual({ key: "attach.empty", permanent: true });
  });

  it("offers a retry when trying again may work", () => {
    for (const code of ["network", "upload_interrupted", "database_unavailable", "http_502", undefined]) {
      expect(uploadProblem(code, "image/jpeg")).toEqual({ key: "attach.failed", permanent: false });
    }
  });

  it("speaks Japanese in the Japanese interface", () => {
    expect(translate("ja", uploadProblem("file_type_not_allowed", "video/mp4").key)).toBe("動画の送信はこの病院の設定で許可されていません");
    expect(translate("ja", uploadProblem("payload_too_large", "image/jpeg").key)).toMatch(/大きすぎ/);
  });
});
