import { afterEach, describe, expect, it, vi } from "vitest";
import { chat, conv, msg } from "../state/fixtures";
import { Store } from "../state/store";
import { ReadMarker } from "./markRead";

const markRead = vi.fn();
vi.mock("../api", () => ({ api: { markRead: (...args: unknown[]) => markRead(...args) } }));

/** Conversation "c" open, 3 unread up to 8, its chat loaded. */
function setup() {
  const store = new Store();
  store.set({ phase: "ready", selected: "c", conversations: [conv({ last_seq: 8, last_read_seq: 5, unread: 3 })], chats: { c: chat({ messages: [msg(8)] }) } });
  return { store, marker: new ReadMarker(store) };
}

describe("posting read marks", () => {
  afterEach(() => markRead.mockReset());

  it("marks the open conversation read at once, and posts it", async () => {
    markRead.mockResolvedValue(undefined);
    const { store, marker } = setup();
    marker.markIfVisible();
    expect(store.state.conversations[0]).toMatchObject({ unread: 0, last_read_seq: 8 });
    expect(markRead).toHaveBeenCalledWith("c", 8);
  });

  it("one request at a time; a message that arrived meanwhile is marked after it", async () => {
    let done = () => {};
    markRead.mockImplementationOnce(() => new Promise<void>((ok) => (done = ok))).mockResolvedValue(undefined);
    const { store, marker } = setup();
    marker.markIfVisible();
    store.setConversation("c", () => ({ last_seq: 9, unread: 1 }));
    marker.markIfVisible();
    expect(markRead).toHaveBeenCalledTimes(1);
    done();
    await vi.waitFor(() => expect(markRead).toHaveBeenCalledTimes(2));
    expect(markRead).toHaveBeenLastCalledWith("c", 9);
  });

  it("posts nothing when the user does not look (another conversation, or the app locked)", () => {
    const { store, marker } = setup();
    store.set({ selected: null });
    marker.markIfVisible();
    store.set({ selected: "c", phase: "locked" });
    marker.markIfVisible();
    expect(markRead).not.toHaveBeenCalled();
    expect(store.state.conversations[0].unread).toBe(3);
  });
});
