import { describe, expect, it } from "vitest";
import { conv, msg } from "./fixtures";
import { Store } from "./store";

describe("the store", () => {
  it("replaces its value on each change and tells each listener until it unsubscribes", () => {
    const store = new Store();
    let calls = 0;
    const unsubscribe = store.subscribe(() => calls++);
    const before = store.getState();
    store.set({ selected: "c" });
    expect(store.getState()).not.toBe(before);
    expect(store.getState().selected).toBe("c");
    expect(before.selected).toBeNull();
    unsubscribe();
    store.set({ selected: null });
    expect(calls).toBe(1);
  });

  it("changes a chat not loaded yet from an empty one", () => {
    const store = new Store();
    store.setChat("c", () => ({ loadingOlder: true }));
    expect(store.state.chats.c).toMatchObject({ loadingOlder: true, loaded: false, messages: [], pending: [] });
  });

  it("keeps the list in order of activity after a change", () => {
    const store = new Store();
    const early = msg(1, { created_at: "2026-01-01T00:00:00Z" });
    store.set({ conversations: [conv({ id: "a", last_message: early }), conv({ id: "b", last_message: early })] });
    store.setConversation("b", () => ({ last_message: msg(2, { created_at: "2026-02-01T00:00:00Z" }) }));
    expect(store.state.conversations.map((c) => c.id)).toEqual(["b", "a"]);
  });

  it("a reset drops every piece of data but what it keeps, in a new generation", () => {
    const store = new Store();
    store.set({ phase: "ready", selected: "c", conversations: [conv()] });
    store.setChat("c", () => ({ loaded: true }));
    const generation = store.generation;
    store.reset({ phase: "locked", lockReason: "idle" });
    expect(store.generation).toBe(generation + 1);
    expect(store.state).toMatchObject({ phase: "locked", lockReason: "idle", selected: null, conversations: [], chats: {}, me: null });
    expect(store.myId).toBe("");
  });
});
