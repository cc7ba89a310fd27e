import { describe, expect, it } from "vitest";
import type { AdminUser } from "./api";
import { draftOf, draftRefusal, emptyNewUser, newUserBody, patchOf } from "./userDraft";

const user: AdminUser = {
  id: "u1",
  org_id: "o1",
  login: "tanaka",
  display_name: "田中 一郎",
  kana: "たなか いちろう",
  romaji: "tanaka ichirou",
  profession: "doctor",
  department_id: null,
  email: "tanaka@oita-u.example",
  phone: null,
  roles: ["org_admin"],
  status: "active",
  staff_number: "E-1",
  affiliations: [],
  second_factor_required: false,
  must_change_password: false,
  version: 3,
};

describe("the user edit form", () => {
  it("sends nothing when nothing changed", () => {
    expect(patchOf(draftOf(user), draftOf(user))).toEqual({});
  });

  it("sends exactly the changed fields, blanks as null", () => {
    const draft = { ...draftOf(user), email: "  ", staff_number: "E-2", second_factor_required: true, department_id: "d1" };
    draft.affiliations = [{ org_id: " o2 ", department: "放射線科", title: "" }];
    expect(patchOf(draft, draftOf(user))).toEqual({
      email: null,
      staff_number: "E-2",
      second_factor_required: true,
      department_id: "d1",
      affiliations: [{ org_id: "o2", department: "放射線科", title: null }],
    });
  });

  it("applies my changes, not my stale copy, over someone else's save", () => {
    const mine = { ...draftOf(user), email: "ichiro@oita-u.example" };
    const theirs = { ...user, phone: "0975-00-1111", version: 4 };
    // The form resends what I changed since loading; their phone stays.
    expect(patchOf(mine, draftOf(user))).toEqual({ email: "ichiro@oita-u.example" });
    expect(patchOf(mine, draftOf(theirs))).toHaveProperty("phone", null);
  });
});

describe("draft check", () => {
  it("accepts an extension and a blank phone, refuses junk", () => {
    expect(draftRefusal({ phone: "内線 4321" })).toBeNull();
    expect(draftRefusal({ phone: "03-1234-5678 内線 12" })).toBeNull();
    expect(draftRefusal({ phone: "  " })).toBeNull();
    expect(draftRefusal({ phone: "call me" })?.body.code).toBe("invalid_phone");
  });
});

describe("the new-user form", () => {
  it("sends e-mail, phone, staff number and roles with the rest", () => {
    const draft = {
      ...emptyNewUser(),
      login: " sato ",
      display_name: "佐藤 花子",
      kana: "さとう はなこ",
      email: " sato@oita-u.example ",
      phone: "内線 4321",
      staff_number: "N-204",
      profession: "doctor",
      department_id: "d1",
      roles: ["server_admin", "org_admin"],
      password: "one-time password",
    };
    expect(newUserBody(draft)).toEqual({
      login: "sato",
      display_name: "佐藤 花子",
      kana: "さとう はなこ",
      email: "sato@oita-u.example",
      phone: "内線 4321",
      staff_number: "N-204",
      profession: "doctor",
      department_id: "d1",
      roles: ["org_admin", "server_admin"],
      password: "one-time password",
    });
  });

  it("leaves blank optional fields out and sends no department as null", () => {
    const body = newUserBody({ ...emptyNewUser(), login: "ito", display_name: "伊藤", email: "  ", password: "p" });
    expect(body).not.toHaveProperty("email");
    expect(body).not.toHaveProperty("phone");
    expect(body).not.toHaveProperty("staff_number");
    expect(body.department_id).toBeNull();
    expect(body.roles).toEqual([]);
  });
});
