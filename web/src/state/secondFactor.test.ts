import { describe, expect, it } from "vitest";
import { codeToSend, groupSecret, isRecoveryCode, isTotpCode, normalizeTyped, recoveryCodesText } from "./secondFactor";

describe("second factor helpers", () => {
  it("groups a base32 secret by four", () => {
    expect(groupSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")).toBe("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
    expect(groupSecret("mzxw6ytboi==")).toBe("MZXW 6YTB OI");
    expect(groupSecret("")).toBe("");
  });

  it("reads full-width digits and ignores spaces and hyphens", () => {
    expect(normalizeTyped("１２３ ４５６")).toBe("123456");
    expect(normalizeTyped("123-456")).toBe("123456");
    expect(isTotpCode("１２３４５６")).toBe(true);
    expect(isTotpCode("12345")).toBe(false);
    expect(isTotpCode("1234567")).toBe(false);
  });

  it("tells a recovery code from an authenticator code", () => {
    expect(isRecoveryCode("abcd-efgh-jkmn-pqrs")).toBe(true);
    expect(isRecoveryCode("ABCD EFGH JKMN PQRS")).toBe(true);
    expect(isRecoveryCode("abcd-efgh-jkmn")).toBe(false);
    expect(codeToSend(" 123 456 ")).toBe("123456");
    expect(codeToSend(" abcd-efgh-jkmn-pqrs ")).toBe("abcd-efgh-jkmn-pqrs");
    expect(codeToSend("12")).toBeNull();
    expect(codeToSend("")).toBeNull();
  });

  it("writes recovery codes one a line", () => {
    expect(recoveryCodesText("renkei", ["a", "b"])).toBe("renkei\n\na\nb\n");
  });
});
