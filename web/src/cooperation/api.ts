// REST calls of the directory and of cooperation between hospitals (agreements, councils).

import { request } from "../api";
import type { components } from "../api/schema";
import type { Person, Uuid } from "../types";

type Schemas = components["schemas"];

export type Scope = Schemas["Scope"];
export { scopeValues as SCOPES } from "../api/schema";

export type DirectoryEntry = Schemas["DirectoryEntry"];
export type DirectoryResults = Schemas["DirectoryResults"];
/** An agreement as one of its parties sees it. */
export type Agreement = Schemas["AgreementView"];
export type OrgSummary = Schemas["OrgSummary"];
export type CouncilMember = Schemas["CouncilMember"];
export type Council = Schemas["CouncilView"];
/** A council my organization belongs to. */
export type Membership = Schemas["CouncilMembership"];

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
    request<Schemas["CouncilAgreementsDone"]>("POST", `/api/v1/councils/${id}/agreements`, { scopes }),
};

/** A directory entry as a person the client knows (names, profession, hospital). */
export function asPerson(e: DirectoryEntry): Person {
  return {
    id: e.id,
    org_id: e.org_id,
    display_name: e.display_name,
    kana: e.kana,
    romaji: e.romaji,
    profession: e.profession,
    department_id: e.department_id,
    org_name: e.org_name,
  };
}
