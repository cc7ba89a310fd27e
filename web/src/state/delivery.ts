// How far each of the sender's messages got with each recipient (sent, pushed, delivered, read,
// acknowledged) from the receipts the server answers and its live frames, and the compact line
// under the sender's message ("既読 3/4", "確認済み 3/4"). Pure functions, all tested.

import type { components } from "../api/schema";
import type { Uuid } from "../types";

export type PersonState = components["schemas"]["DeliveryState"];

/** The live frames of delivery (besides the read `receipt` frame kept in read marks). */
export type DeliveryFrame =
  | { type: "delivery"; conversation_id: Uuid; state: "pushed" | "delivered"; marks: { user_id: Uuid; seq: number }[] }
  | { type: "ack"; conversation_id: Uuid; user_id: Uuid; seq: number; acknowledged_at: string }
  | { type: "escalated"; conversation_id: Uuid; seq: number; user_id: Uuid; covering_user_id: Uuid };

/** One conversation's delivery marks: pushed and delivered are monotonic per member (up to a
 * seq), acknowledgements and escalations belong to one (urgent) message. */
export interface DeliveryMarks {
  pushed: Record<Uuid, number>;
  delivered: Record<Uuid, number>;
  /** seq → member → acknowledged at */
  acks: Record<number, Record<Uuid, string>>;
  /** seq → member → the covering colleague alerted in their place */
  escalated: Record<number, Record<Uuid, Uuid>>;
}

export const emptyDelivery = (): DeliveryMarks => ({ pushed: {}, delivered: {}, acks: {}, escalated: {} });

const forward = (marks: Record<Uuid, number>, user: Uuid, seq: number) =>
  (marks[user] ?? 0) >= seq ? marks : { ...marks, [user]: seq };

/** A live frame applied (never moving a mark back). */
export function applyDeliveryFrame(marks: DeliveryMarks, frame: DeliveryFrame): DeliveryMarks {
  switch (frame.type) {
    case "delivery": {
      let { pushed, delivered } = marks;
      for (const { user_id, seq } of frame.marks) {
        pushed = forward(pushed, user_id, seq);
        if (frame.state === "delivered") delivered = forward(delivered, user_id, seq);
      }
      if (delivered === marks.delivered && pushed === marks.pushed) return marks;
      return { ...marks, pushed, delivered };
    }
    case "ack": {
      const seen = marks.acks[frame.seq] ?? {};
      if (seen[frame.user_id]) return marks;
      return { ...marks, acks: { ...marks.acks, [frame.seq]: { ...seen, [frame.user_id]: frame.acknowledged_at } } };
    }
    case "escalated": {
      const seen = marks.escalated[frame.seq] ?? {};
      if (seen[frame.user_id] === frame.covering_user_id) return marks;
      return {
        ...marks,
        escalated: { ...marks.escalated, [frame.seq]: { ...seen, [frame.user_id]: frame.covering_user_id } },
      };
    }
  }
}

/** A receipt of `GET …/receipts`, with the fields issue 19 adds (absent from older servers). */
export interface ReceiptLike {
  user_id: Uuid;
  read: boolean;
  state?: PersonState | string;
  acknowledged_at?: string | null;
  escalated_to?: Uuid | null;
}

/** The receipts of one message merged into the marks (the answer is as new as a frame). */
export function applyReceipts(marks: DeliveryMarks, seq: number, readers: ReceiptLike[]): DeliveryMarks {
  let next = marks;
  for (const r of readers) {
    const state = r.state ?? (r.read ? "read" : "sent");
    if (state !== "sent") next = applyDeliveryFrame(next, { type: "delivery", conversation_id: "", state: state === "pushed" ? "pushed" : "delivered", marks: [{ user_id: r.user_id, seq }] });
    if (r.acknowledged_at) next = applyDeliveryFrame(next, { type: "ack", conversation_id: "", user_id: r.user_id, seq, acknowledged_at: r.acknowledged_at });
    if (r.escalated_to) next = applyDeliveryFrame(next, { type: "escalated", conversation_id: "", seq, user_id: r.user_id, covering_user_id: r.escalated_to });
  }
  return next;
}

/** How far message `seq` got with `user`: the furthest step any mark shows (reading a later
 * message means this one was delivered too). */
export function personState(marks: DeliveryMarks, readMarks: Record<Uuid, number>, user: Uuid, seq: number): PersonState {
  if (marks.acks[seq]?.[user]) return "acknowledged";
  if ((readMarks[user] ?? 0) >= seq) return "read";
  if ((marks.delivered[user] ?? 0) >= seq) return "delivered";
  if ((marks.pushed[user] ?? 0) >= seq) return "pushed";
  return "sent";
}

const ORDER: PersonState[] = ["sent", "pushed", "delivered", "read", "acknowledged"];
/** Whether `state` is at least `step`. */
export const reached = (state: PersonState, step: PersonState) => ORDER.indexOf(state) >= ORDER.indexOf(step);

export interface DeliverySummary {
  /** what the line counts: reads, or acknowledgements of an urgent message */
  kind: "read" | "acknowledged";
  n: number;
  of: number;
  /** how many were alerted through their covering colleague */
  escalated: number;
}

/** The compact line's numbers for the sender's message `seq` among `members`. */
export function summarize(
  marks: DeliveryMarks,
  readMarks: Record<Uuid, number>,
  members: Uuid[],
  sender: Uuid,
  seq: number,
  urgent: boolean,
): DeliverySummary {
  const others = members.filter((id) => id !== sender);
  const kind = urgent ? "acknowledged" : "read";
  const n = others.filter((id) => reached(personState(marks, readMarks, id, seq), kind)).length;
  const escalated = Object.keys(marks.escalated[seq] ?? {}).filter((id) => others.includes(id) && !marks.acks[seq]?.[id]).length;
  return { kind, n, of: others.length, escalated };
}

/** The compact line's message key and arguments (said by the i18n catalog). */
export function lineText(s: DeliverySummary): { key: "chat.readBy" | "chat.unread" | "delivery.ackLine"; n: number; of: number } {
  if (s.kind === "acknowledged") return { key: "delivery.ackLine", n: s.n, of: s.of };
  return { key: s.n === 0 ? "chat.unread" : "chat.readBy", n: s.n, of: s.of };
}

/** One line of the per-person list. */
export interface PersonLine {
  user_id: Uuid;
  state: PersonState;
  acknowledged_at: string | null;
  escalated_to: Uuid | null;
}

/** The per-person list of message `seq`: furthest first, then by the given member order. */
export function personLines(marks: DeliveryMarks, readMarks: Record<Uuid, number>, members: Uuid[], sender: Uuid, seq: number): PersonLine[] {
  return members
    .filter((id) => id !== sender)
    .map((user_id) => ({
      user_id,
      state: personState(marks, readMarks, user_id, seq),
      acknowledged_at: marks.acks[seq]?.[user_id] ?? null,
      escalated_to: marks.escalated[seq]?.[user_id] ?? null,
    }))
    .sort((a, b) => ORDER.indexOf(b.state) - ORDER.indexOf(a.state));
}

/** Whether the acknowledge button shows: an urgent message of someone else, not yet
 * acknowledged by me. */
export function owesAck(marks: DeliveryMarks, me: Uuid, message: { sender_id: Uuid; seq: number; priority?: string | null; deleted_at?: string | null }): boolean {
  return message.priority === "urgent" && message.sender_id !== me && !message.deleted_at && !marks.acks[message.seq]?.[me];
}

/** Whether an `ack` frame is an acknowledgement of an urgent message (the socket's send ack,
 * which has the same type, carries `client_msg_id` instead). */
export function isAckOfUrgent(frame: { type: string } & Record<string, unknown>): frame is DeliveryFrame & { type: "ack" } {
  return frame.type === "ack" && typeof frame.user_id === "string" && typeof frame.acknowledged_at === "string";
}
