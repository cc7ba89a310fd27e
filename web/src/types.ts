// The server's JSON shapes the client uses: aliases of the types generated from the server's
// OpenAPI document (web/openapi.json → api/schema.ts, `npm run gen:api`), so they cannot drift.

import type { components } from "./api/schema";

type Schemas = components["schemas"];

export type Uuid = string;

/** A full user record: one's own (`GET /me`), or an administrator's view. */
export type User = Schemas["User"];
/** What the client knows of anyone it shows: from a user record, the organization's list of
 * colleagues, or the directory (which adds their hospital's name). */
export type Person = Pick<User, "id" | "org_id" | "display_name" | "kana" | "romaji" | "profession" | "department_id"> & {
  org_name?: string;
};
export type Profession = Schemas["Profession"];
export type Policy = Schemas["Policy"];
export type Organization = Schemas["Organization"];
export type Me = Schemas["MeResponse"];
export type Attachment = Schemas["Attachment"];
export type Message = Schemas["Message"];
export type Priority = Schemas["Priority"];
/** A conversation as its member sees it in the list (unread count, last message, own level). */
export type Conversation = Schemas["ConversationView"];
export type NotifyLevel = Schemas["NotifyLevel"];
export type Member = Schemas["Member"];
export type MemberRole = Schemas["MemberRole"];
export type TimelineEvent = Schemas["Event"];
export type Receipts = Schemas["Receipts"];
export type Study = Schemas["Study"];
export type StudyDetail = Schemas["StudyDetail"];
export type Series = Schemas["Series"];
export type Instance = Schemas["Instance"];
export type Redacted = Schemas["Redacted"];
export type RedactionRule = Schemas["RedactionRule"];
export type Media = Schemas["Media"];
export type Department = Schemas["Department"];
