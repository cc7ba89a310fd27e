import { afterEach, describe, expect, it, vi } from "vitest";
import { chat, member, msg } from "../state/fixtures";
import { Positions } from "../state/positions";
import { Store } from "../state/store";
import { PAGE } from "../state/timelines";
import { TimelineLoader } from "./loading";

const api = vi.hoisted(() => ({ history: vi.fn(), members: vi.fn() }));
const chatApi = vi.hoisted(() => ({ historyAfter: vi.fn() }));
vi.mock("../api", () => ({
  api,
  ApiError: class ApiError extends Error {
    constructor(readonly status: number) {
      super("refused");
    }
  },
}));
vi.mock("../chatApi", () => ({ chatApi }));
const { ApiError } = await import("../api");

function setup() {
  const store = new Store();
  store.set({ phase: "ready" });
  const positions = new Positions();
  const people = { fillIn: vi.fn() };
  const readMarker = { markIfVisible: vi.fn() };
  const loader = new TimelineLoader(store, positions, people as never, readMarker as never);
  return { store, positions, people, readMarker, loader };
}

const page = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));

describe("loading a timeline", () => {
  afterEach(() => {
    api.history.mockReset();
    api.members.mockReset();
    chatApi.historyAfter.mockReset();
  });

  it("opening a conversation loads its newest page and members, learns its seqs, and marks it read", async () => {
    const { store, positions, people, readMarker, loader } = setup();
    api.history.mockResolvedValue(page(3, 5));
    api.members.mockResolvedValue([member("u1", 4)]);
    loader.select("c");
    expect(store.state.selected).toBe("c");
    await vi.waitFor(() => expect(store.state.chats.c?.loaded).toBe(true));
    expect(api.history).toHaveBeenCalledWith("c", undefined, PAGE);
    expect(store.state.chats.c).toMatchObject({ members: ["u1"], readMarks: { u1: 4 }, hasOlder: false });
    expect(store.state.chats.c.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(positions.get("c")).toBe(5);
    expect(people.fillIn).toHaveBeenCalledWith("c", [member("u1", 4)]);
    expect(readMarker.markIfVisible).toHaveBeenCalled();
  });

  it("opening a loaded one only marks it read", () => {
    const { store, readMarker, loader } = setup();
    store.set({ chats: { c: chat() } });
    loader.select("c");
    expect(api.history).not.toHaveBeenCalled();
    expect(readMarker.markIfVisible).toHaveBeenCalled();
  });

  it("a page arriving after the data was dropped (a lock) is thrown away", async () => {
    const { store, positions, loader } = setup();
    let arrive = (_: unknown) => {};
    let membersArrive = (_: unknown) => {};
    api.history.mockReturnValue(new Promise((ok) => (arrive = ok)));
    api.members.mockReturnValue(new Promise((ok) => (membersArrive = ok)));
    loader.select("c");
    store.reset({ phase: "locked" });
    membersArrive([]);
    arrive(page(1, 3));
    await new Promise((ok) => setTimeout(ok, 0));
    // Neither the messages nor the member list bring the chat back into memory.
    expect(store.state.chats.c).toBeUndefined();
    expect(positions.get("c")).toBe(0);
  });

  it("a failed page shows as an error, but not when the session locked or ended", async () => {
    const { store, loader } = setup();
    api.members.mockResolvedValue([]);
    api.history.mockRejectedValueOnce(new Error("network"));
    loader.select("c");
    await vi.waitFor(() => expect(store.state.chats.c?.error).toBe(true));
    api.history.mockRejectedValueOnce(new ApiError(423));
    loader.select("d");
    await new Promise((ok) => setTimeout(ok, 0));
    expect(store.state.chats.d?.error ?? false).toBe(false);
  });

  it("scrolling back from the first message asks for nothing and stops", async () => {
    const { store, loader } = setup();
    store.set({ chats: { c: chat({ messages: [msg(1)] }) } });
    await loader.loadOlder("c");
    expect(api.history).not.toHaveBeenCalled();
    expect(store.state.chats.c.hasOlder).toBe(false);
  });

  it("scrolling back loads the page before the oldest message", async () => {
    const { store, loader } = setup();
    store.set({ chats: { c: chat({ messages: [msg(60)] }) } });
    api.history.mockResolvedValue(page(10, 59));
    await loader.loadOlder("c");
    expect(api.history).toHaveBeenCalledWith("c", 60, PAGE);
    expect(store.state.chats.c).toMatchObject({ loadingOlder: false, hasOlder: true });
    expect(store.state.chats.c.messages).toHaveLength(51);
  });

  it("a found message: the window around it, focused; already on screen, only focused", async () => {
    const { store, loader } = setup();
    api.history.mockResolvedValue(page(76, 100));
    chatApi.historyAfter.mockResolvedValue(page(101, 110));
    api.members.mockResolvedValue([]);
    await loader.openAt("c", 100);
    expect(api.history).toHaveBeenCalledWith("c", 101, PAGE / 2);
    expect(chatApi.historyAfter).toHaveBeenCalledWith("c", 100, PAGE / 2);
    expect(store.state.chats.c).toMatchObject({ loaded: true, hasOlder: true, hasNewer: false, focus: { seq: 100 } });
    await loader.openAt("c", 90);
    expect(api.history).toHaveBeenCalledTimes(1);
    expect(store.state.chats.c.focus?.seq).toBe(90);
  });
});
