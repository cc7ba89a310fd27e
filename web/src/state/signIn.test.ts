import { describe, expect, it } from "vitest";
import { signInNotice } from "./signIn";

const now = 1_000_000;

describe("sign-in notices", () => {
  it("counts down the wrong passwords left, then says when to try again", () => {
    expect(signInNotice({ status: 401, code: "invalid_credentials", hint: { attempts_left: 2 } }, now)).toEqual({ key: "login.attemptsLeft", n: 2 });
    expect(signInNotice({ status: 401, code: "invalid_credentials", hint: { attempts_left: 0, retry_after: 30 } }, now)).toEqual({
      key: "login.delayed",
      seconds: 30,
      until: now + 30_000,
    });
    expect(signInNotice({ status: 401, code: "invalid_credentials" }, now)).toEqual({ key: "login.invalid" });
  });

  it("tells a delayed login from a busy address, and shows when a lock ends", () => {
    expect(signInNotice({ status: 429, code: "sign_in_delayed", hint: { retry_after: 120 } }, now)).toMatchObject({ key: "login.delayed", seconds: 120 });
    expect(signInNotice({ status: 429, code: "rate_limited", hint: { retry_after: 40 } }, now)).toEqual({ key: "login.rateLimited" });
    expect(signInNotice({ status: 423, code: "account_locked", hint: { retry_after: 60 } }, now)).toEqual({
      key: "login.lockedUntil",
      seconds: 60,
      until: now + 60_000,
    });
    expect(signInNotice({ status: 0, code: "network" }, now)).toEqual({ key: "common.networkError" });
    expect(signInNotice({ status: 403, code: "account_suspended" }, now)).toEqual({ key: "login.refused" });
  });
});
