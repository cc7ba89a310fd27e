import { describe, expect, it } from "vitest";
import {
  applyDeliveryFrame,
  applyReceipts,
  emptyDelivery,
  isAckOfUrgent,
  lineText,
  owesAck,
  personLines,
  personState,
  summarize,
  type DeliveryMarks,
} from "./delivery";

const C = "c1";
const [me, b, c, d, z] = ["me", "b", "c", "d", "z"];
const members = [me, b, c, d];

function frames(...fs: Parameters<typeof applyDeliveryFrame>[1][]): DeliveryMarks {
  return fs.reduce(applyDeliveryFrame, emptyDelivery());
}

describe("delivery marks", () => {
  it("move each step forward, never back", () => {
    let m = frames(
      { type: "delivery", conversation_id: C, state: "pushed", marks: [{ user_id: b, seq: 5 }] },
      { type: "delivery", conversation_id: C, state: "delivered", marks: [{ user_id: b, seq: 5 }] },
    );
    expect(personState(m, {}, b, 5)).toBe("delivered");
    m = applyDeliveryFrame(m, { type: "delivery", conversation_id: C, state: "pushed", marks: [{ user_id: b, seq: 3 }] });
    expect(m.pushed[b]).toBe(5);
    // a delivered mark implies pushed
    m = applyDeliveryFrame(m, { type: "delivery", conversation_id: C, state: "delivered", marks: [{ user_id: c, seq: 7 }] });
    expect(m.pushed[c]).toBe(7);
    // the same frame twice changes nothing (same object)
    expect(applyDeliveryFrame(m, { type: "delivery", conversation_id: C, state: "delivered", marks: [{ user_id: c, seq: 7 }] })).toBe(m);
  });

  it("one frame carries every member whose mark moved", () => {
    const m = frames(
      { type: "delivery", conversation_id: C, state: "pushed", marks: [{ user_id: d, seq: 6 }] },
      {
        type: "delivery",
        conversation_id: C,
        state: "delivered",
        marks: [
          { user_id: b, seq: 5 },
          { user_id: c, seq: 6 },
          { user_id: d, seq: 4 },
        ],
      },
    );
    expect(personState(m, {}, b, 5)).toBe("delivered");
    expect(personState(m, {}, c, 6)).toBe("delivered");
    expect(personState(m, {}, d, 4)).toBe("delivered");
    // d's push mark stays ahead of its delivered mark
    expect(personState(m, {}, d, 6)).toBe("pushed");
  });

  it("a state covers earlier messages too, and a read mark beats delivery", () => {
    const m = frames({ type: "delivery", conversation_id: C, state: "delivered", marks: [{ user_id: b, seq: 9 }] });
    expect(personState(m, {}, b, 4)).toBe("delivered");
    expect(personState(m, {}, b, 10)).toBe("sent");
    expect(personState(m, { [b]: 4 }, b, 4)).toBe("read");
  });

  it("an acknowledgement belongs to one message and is the furthest step", () => {
    const m = frames({ type: "ack", conversation_id: C, user_id: b, seq: 4, acknowledged_at: "2026-12-07T04:00:00Z" });
    expect(personState(m, {}, b, 4)).toBe("acknowledged");
    expect(personState(m, { [b]: 5 }, b, 5)).toBe("read");
  });

  it("merges an answer of GET receipts", () => {
    const m = applyReceipts(emptyDelivery(), 4, [
      { user_id: b, read: true, state: "acknowledged", acknowledged_at: "2026-12-07T04:00:00Z" },
      { user_id: c, read: false, state: "pushed" },
      { user_id: d, read: false, state: "delivered", escalated_to: z },
    ]);
    expect(personState(m, {}, b, 4)).toBe("acknowledged");
    expect(personState(m, {}, c, 4)).toBe("pushed");
    expect(personState(m, {}, d, 4)).toBe("delivered");
    expect(m.escalated[4][d]).toBe(z);
  });

  it("an older server's receipts (no state) still count reads", () => {
    const m = applyReceipts(emptyDelivery(), 4, [{ user_id: b, read: true }, { user_id: c, read: false }]);
    expect(personState(m, {}, b, 4)).toBe("delivered");
    expect(personState(m, {}, c, 4)).toBe("sent");
  });
});

describe("the compact line", () => {
  it("counts reads of a normal message", () => {
    const s = summarize(emptyDelivery(), { [b]: 4, [c]: 4, [d]: 3 }, members, me, 4, false);
    expect(s).toEqual({ kind: "read", n: 2, of: 3, escalated: 0 });
    expect(lineText(s)).toEqual({ key: "chat.readBy", n: 2, of: 3 });
    expect(lineText(summarize(emptyDelivery(), {}, members, me, 4, false)).key).toBe("chat.unread");
  });

  it("counts acknowledgements of an urgent message (reading is not acknowledging)", () => {
    const m = frames(
      { type: "ack", conversation_id: C, user_id: b, seq: 4, acknowledged_at: "t" },
      { type: "escalated", conversation_id: C, seq: 4, user_id: d, covering_user_id: z },
    );
    const s = summarize(m, { [b]: 4, [c]: 4 }, members, me, 4, true);
    expect(s).toEqual({ kind: "acknowledged", n: 1, of: 3, escalated: 1 });
    expect(lineText(s)).toEqual({ key: "delivery.ackLine", n: 1, of: 3 });
  });

  it("lists each person furthest first, with the covering colleague", () => {
    const m = frames(
      { type: "delivery", conversation_id: C, state: "pushed", marks: [{ user_id: c, seq: 4 }] },
      { type: "ack", conversation_id: C, user_id: d, seq: 4, acknowledged_at: "t" },
      { type: "escalated", conversation_id: C, seq: 4, user_id: b, covering_user_id: z },
    );
    expect(personLines(m, {}, members, me, 4)).toEqual([
      { user_id: d, state: "acknowledged", acknowledged_at: "t", escalated_to: null },
      { user_id: c, state: "pushed", acknowledged_at: null, escalated_to: null },
      { user_id: b, state: "sent", acknowledged_at: null, escalated_to: z },
    ]);
  });
});

describe("the acknowledge button", () => {
  const urgent = { sender_id: b, seq: 4, priority: "urgent" };
  it("shows for a recipient of an urgent message until they acknowledge", () => {
    expect(owesAck(emptyDelivery(), me, urgent)).toBe(true);
    expect(owesAck(emptyDelivery(), me, { ...urgent, priority: "normal" })).toBe(false);
    expect(owesAck(emptyDelivery(), b, urgent)).toBe(false);
    const m = frames({ type: "ack", conversation_id: C, user_id: me, seq: 4, acknowledged_at: "t" });
    expect(owesAck(m, me, urgent)).toBe(false);
  });

  it("tells an acknowledgement frame from the socket's send ack", () => {
    expect(isAckOfUrgent({ type: "ack", conversation_id: C, client_msg_id: "x", seq: 1, duplicate: false })).toBe(false);
    expect(isAckOfUrgent({ type: "ack", conversation_id: C, user_id: b, seq: 1, acknowledged_at: "t" })).toBe(true);
  });
});
