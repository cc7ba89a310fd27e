// A user as the edit form holds it, and the PATCH body of what changed: only changed fields
// are sent, and a blank optional field is sent as null (cleared).

import type { AdminUser, Affiliation, Reply } from "./api";
import { isPhone } from "../state/phone";

export const TEXT = ["login", "display_name", "kana", "romaji", "email", "phone", "staff_number"] as const;
const OPTIONAL = new Set(["email", "phone", "staff_number"]);

export interface Draft {
  login: string;
  display_name: string;
  kana: string;
  romaji: string;
  email: string;
  phone: string;
  staff_number: string;
  profession: string;
  department_id: string;
  roles: string[];
  status: string;
  second_factor_required: boolean;
  affiliations: { org_id: string; department: string; title: string }[];
}

export function draftOf(u: AdminUser): Draft {
  return {
    login: u.login,
    display_name: u.display_name,
    kana: u.kana,
    romaji: u.romaji,
    email: u.email ?? "",
    phone: u.phone ?? "",
    staff_number: u.staff_number ?? "",
    profession: u.profession,
    department_id: u.department_id ?? "",
    roles: [...u.roles].sort(),
    status: u.status,
    second_factor_required: u.second_factor_required,
    affiliations: u.affiliations.map((a) => ({ org_id: a.org_id, department: a.department ?? "", title: a.title ?? "" })),
  };
}

function wire(d: Draft): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TEXT) out[k] = OPTIONAL.has(k) && d[k].trim() === "" ? null : d[k];
  out.profession = d.profession;
  out.department_id = d.department_id || null;
  out.roles = d.roles;
  out.status = d.status;
  out.second_factor_required = d.second_factor_required;
  out.affiliations = d.affiliations.map(
    (a): Affiliation => ({ org_id: a.org_id.trim(), department: a.department.trim() || null, title: a.title.trim() || null }),
  );
  return out;
}

/** The fields of `draft` that differ from `base`, as a PATCH body. */
export function patchOf(draft: Draft, base: Draft): Record<string, unknown> {
  const a = wire(draft);
  const b = wire(base);
  return Object.fromEntries(Object.entries(a).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(b[k])));
}


/** A refusal the server would give, found before sending (the same rule): a bad phone. */
export function draftRefusal(d: Pick<Draft, "phone">): Reply | null {
  return d.phone.trim() && !isPhone(d.phone) ? { status: 422, body: { code: "invalid_phone" } } : null;
}

/** What the new-user form holds: the edit form's first fields and a one-time password. */
export type NewUserDraft = Pick<Draft, "login" | "display_name" | "kana" | "email" | "phone" | "staff_number" | "profession" | "department_id" | "roles"> & {
  password: string;
};

export function emptyNewUser(): NewUserDraft {
  return { login: "", display_name: "", kana: "", email: "", phone: "", staff_number: "", profession: "nurse", department_id: "", roles: [], password: "" };
}

/** The POST body of a new user: blank optional fields are left out, roles sorted. */
export function newUserBody(d: NewUserDraft): Record<string, unknown> {
  const out: Record<string, unknown> = {
    login: d.login.trim(),
    display_name: d.display_name,
    kana: d.kana,
    profession: d.profession,
    department_id: d.department_id || null,
    roles: [...d.roles].sort(),
    password: d.password,
  };
  for (const k of ["email", "phone", "staff_number"] as const) if (d[k].trim() !== "") out[k] = d[k].trim();
  return out;
}
