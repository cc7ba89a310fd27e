// REST calls of the directory and of cooperation between hospitals (agreements, councils).

import { request } from "../api";
import type { User, Uuid } from "../types";

export type Scope = "directory" | "messaging" | "images";
export const SCOPES: Scope[] = ["directory", "messaging", "images"];

export interface DirectoryEntry {
  id: Uuid;
  display_name: string;
  kana: string;
  romaji: string;
  profession: string;
  status: string;
  email: string | null;
  phone: string | null;
  department_id: Uuid | null;
  department_name: string | null;
  org_id: Uuid;
  org_name: string;
  rank: "exact" | "prefix" | "partial";
}

export interface DirectoryResults {
  items: DirectoryEntry[];
  total: number;
  offset: number;
  limit: number;
  has_more: boolean;
  next_offset: number | null;
}

export interface Agreement {
  id: Uuid;
  proposer_org_id: Uuid;
  partner_org_id: Uuid;
  scopes: Scope[];
  status: "proposed" | "active" | "revoked";
  council_id: Uuid | null;
  other_org_id: Uuid;
  other_org_name: string;
  proposed_by_us: boolean;
}

export interface OrgSummary {
  id: Uuid;
  name: string;
  slug: string;
  kind: "hospital" | "council";
}

export interface CouncilMember {
  org_id: Uuid;
  org_name: string;
  status: "invited" | "opted_in" | "opted_out";
}

export interface Council {
  id: Uuid;
  name: string;
  scopes: Scope[] | null;
  members: CouncilMember[];
  i_administer: boolean;
}

export interface Membership {
  council_id: Uuid;
  council_name: string;
  status: CouncilMember["status"];
}

export function searchDirectory(q: string, offset = 0, conversationId?: Uuid, limit = 20) {
  const params = new URLSearchParams({ q, offset: String(offset), limit: String(limit) });
  if (conversationId) params.set("conversation_id", conversationId);
  return request<DirectoryResults>("GET", `/api/v1/directory?${params}`);
}

export const coopApi = {
  agreements: () => request<Agreement[]>("GET", "/api/v1/agreements"),
  propose: (partner_org_id: Uuid, scopes: Scope[]) =>
    request<Agreement>("POST", "/api/v1/agreements", { partner_org_id, scopes }),
  accept: (id: Uuid) => request<Agreement>("POST", `/api/v1/agreements/${id}/accept`, {}),
  revoke: (id: Uuid) => request<Agreement>("POST", `/api/v1/agreements/${id}/revoke`, {}),
  orgs: () => request<OrgSummary[]>("GET", "/api/v1/cooperation/orgs"),
  myCouncils: () => request<Membership[]>("GET", "/api/v1/councils"),
  council: (id: Uuid) => request<Council>("GET", `/api/v1/councils/${id}`),
  invite: (id: Uuid, org_id: Uuid) => request<Council>("POST", `/api/v1/councils/${id}/members`, { org_id }),
  optIn: (id: Uuid) => request<Council>("POST", `/api/v1/councils/${id}/opt-in`, {}),
  optOut: (id: Uuid) => request<Council>("POST", `/api/v1/councils/${id}/opt-out`, {}),
  createAll: (id: Uuid, scopes: Scope[]) =>
    request<{ created: number; council: Council }>("POST", `/api/v1/councils/${id}/agreements`, { scopes }),
};

/** A directory entry as the client's user record (names, profession, hospital). */
export function asUser(e: DirectoryEntry): User {
  return {
    id: e.id,
    org_id: e.org_id,
    login: "",
    display_name: e.display_name,
    kana: e.kana,
    romaji: e.romaji,
    profession: e.profession,
    department_id: e.department_id,
    roles: [],
    status: e.status,
    must_change_password: false,
    org_name: e.org_name,
  };
}
