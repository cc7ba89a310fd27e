import { afterEach, describe, expect, it, vi } from "vitest";
import { conv, person } from "../state/fixtures";
import { Store } from "../state/store";
import type { Me } from "../types";
import { GroupActions } from "./groupActions";

const chatApi = vi.hoisted(() => ({ setNotify: vi.fn(), addMember: vi.fn(), removeMember: vi.fn(), rename: vi.fn() }));
vi.mock("../chatApi", () => ({ chatApi }));

function setup() {
  const store = new Store();
  store.set({ me: { user: { id: "me" } } as Me, conversations: [conv({ member_count: 3 })] });
  const parts = { timelines: { loadMembers: vi.fn(async () => undefined) }, people: { remember: vi.fn() }, conversations: { drop: vi.fn() } };
  return { store, groups: new GroupActions(store, parts.timelines, parts.people, parts.conversations), ...parts };
}

describe("managing a group", () => {
  afterEach(() => Object.values(chatApi).forEach((f) => f.mockReset()));

  it("my notification level shows at once, and goes back when the server refuses it", async () => {
    const { store, groups } = setup();
    let refuse = (_: Error) => {};
    chatApi.setNotify.mockReturnValue(new Promise((_, fail) => (refuse = fail)));
    const setting = groups.setNotify("c", "mute");
    expect(store.state.conversations[0].notify).toBe("mute");
    refuse(new Error("refused"));
    await expect(setting).rejects.toThrow("refused");
    expect(store.state.conversations[0].notify).toBe("all");
  });

  it("adding a member: their name is remembered, the member list reloaded, the count one more", async () => {
    const { store, groups, people, timelines } = setup();
    chatApi.addMember.mockResolvedValue([]);
    await groups.addMember("c", person("u4"));
    expect(people.remember).toHaveBeenCalledWith([person("u4")]);
    expect(chatApi.addMember).toHaveBeenCalledWith("c", "u4");
    expect(timelines.loadMembers).toHaveBeenCalledWith("c");
    expect(store.state.conversations[0].member_count).toBe(4);
  });

  it("a refused addition changes nothing", async () => {
    const { store, groups, timelines } = setup();
    chatApi.addMember.mockRejectedValue(new Error("refused"));
    await expect(groups.addMember("c", person("u4"))).rejects.toThrow();
    expect(timelines.loadMembers).not.toHaveBeenCalled();
    expect(store.state.conversations[0].member_count).toBe(3);
  });

  it("leaving removes me, and the conversation leaves the list", async () => {
    const { groups, conversations } = setup();
    chatApi.removeMember.mockResolvedValue(undefined);
    await groups.leave("c");
    expect(chatApi.removeMember).toHaveBeenCalledWith("c", "me");
    expect(conversations.drop).toHaveBeenCalledWith("c");
  });

  it("a new title comes from the server's answer", async () => {
    const { store, groups } = setup();
    chatApi.rename.mockResolvedValue(conv({ title: "5階東" }));
    await groups.rename("c", " 5階東 ");
    expect(store.state.conversations[0].title).toBe("5階東");
  });
});
