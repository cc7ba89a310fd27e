import { describe, expect, it } from "vitest";
import { creationOptions, fromB64url, requestOptions, toB64url, withoutNulls } from "./passkey";

describe("passkey options", () => {
  it("round-trips base64url without padding", () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0x00, 0x10, 0x3e]);
    const text = toB64url(bytes);
    expect(text).toBe("-_8AED4");
    expect(new Uint8Array(fromB64url(text))).toEqual(bytes);
  });

  it("turns the server's options into the browser's, binary values as bytes and no nulls", () => {
    const created = creationOptions({
      publicKey: {
        challenge: "AAEC",
        rp: { id: "localhost", name: "renkei" },
        user: { id: "AwQ", name: "ito", displayName: "伊藤" },
        excludeCredentials: [{ type: "public-key", id: "BQY" }],
        hints: null,
      },
    }).publicKey!;
    expect(new Uint8Array(created.challenge as ArrayBuffer)).toEqual(new Uint8Array([0, 1, 2]));
    expect(new Uint8Array(created.user.id as ArrayBuffer)).toEqual(new Uint8Array([3, 4]));
    expect(new Uint8Array(created.excludeCredentials![0].id as ArrayBuffer)).toEqual(new Uint8Array([5, 6]));
    expect("hints" in created).toBe(false);
    const requested = requestOptions({ publicKey: { challenge: "AAEC", userVerification: "required", allowCredentials: [] } }).publicKey!;
    expect(requested.userVerification).toBe("required");
    expect(requested.allowCredentials).toEqual([]);
    expect(withoutNulls({ a: [null, { b: null, c: 1 }] })).toEqual({ a: [{ c: 1 }] });
  });
});
