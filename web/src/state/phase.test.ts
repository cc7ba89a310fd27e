import { describe, expect, it } from "vitest";
import type { Me } from "../types";
import { phaseAfterAuth } from "./phase";

const me = (user: Partial<Me["user"]> = {}, policy: Partial<Me["organization"]["policy"]> = {}, has_passcode = true) =>
  ({
    user: { id: "u", must_change_password: false, ...user },
    organization: { policy: { passcode_required: false, ...policy } },
    has_passcode,
  }) as Me;

describe("the step after authenticating", () => {
  it("replaces a one-time password before anything else", () => {
    expect(phaseAfterAuth(me({ must_change_password: true }, {}, false), true, true)).toBe("changePassword");
  });

  it("asks for a passcode unless put off, and always when the organization requires one", () => {
    expect(phaseAfterAuth(me({}, {}, false), false, false)).toBe("setPasscode");
    expect(phaseAfterAuth(me({}, {}, false), false, true)).toBe("ready");
    expect(phaseAfterAuth(me({}, { passcode_required: true }, false), false, true)).toBe("setPasscode");
  });

  it("shows the lock screen first when the session starts locked", () => {
    expect(phaseAfterAuth(me(), true, false)).toBe("locked");
    expect(phaseAfterAuth(me(), false, false)).toBe("ready");
  });
});
