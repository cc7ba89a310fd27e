import { describe, expect, it } from "vitest";
import { failureOf, markFailed, resendAll, resendsOnReconnect } from "./outbox";
import { pending } from "./fixtures";

const p = pending;

describe("failed sends after a reconnect", () => {
  it("tells network trouble from a refusal", () => {
    expect(failureOf(0)).toBe("network");
    expect(failureOf(undefined)).toBe("network");
    expect(failureOf(503)).toBe("network");
    expect(failureOf(429)).toBe("network");
    expect(failureOf(422)).toBe("refused");
    expect(failureOf(404)).toBe("refused");
  });

  it("sends again what the network lost, with the same id, in place", () => {
    const list = [p("a", { seq: 4 }), markFailed(p("b"), "network"), markFailed(p("c"), "refused"), p("d")];
    const { pending, resend } = resendAll(list);
    expect(resend.map((x) => x.client_msg_id)).toEqual(["b", "d"]);
    expect(pending.map((x) => [x.client_msg_id, x.status])).toEqual([
      ["a", "sending"],
      ["b", "sending"],
      ["c", "failed"],
      ["d", "sending"],
    ]);
    expect(pending[1].failure).toBeUndefined();
  });

  it("never sends twice what the server already stored (acked with a seq)", () => {
    expect(resendsOnReconnect(markFailed(p("a", { seq: 9 }), "network"))).toBe(false);
  });

  it("leaves the list itself alone when nothing goes again", () => {
    const list = [markFailed(p("c"), "refused")];
    expect(resendAll(list).pending).toBe(list);
    expect(resendAll(list).resend).toEqual([]);
  });
});
