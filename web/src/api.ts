// The REST client: the session is the HttpOnly cookie; changes carry the CSRF token, which is
// read from the (non-HttpOnly) `renkei_csrf` cookie so it survives a reload without storage.

import type { components } from "./api/schema";
import type { OutgoingMessage } from "./connection/frames";
import type { FrameAnnotations, Shape } from "./state/annotations";
import type {
  Conversation,
  Instance,
  Me,
  Media,
  Member,
  Message,
  Organization,
  Receipts,
  Study,
  StudyDetail,
  Person,
  Redacted,
  RedactionRule,
  User,
  Uuid,
} from "./types";
import type { Area } from "./viewer/redaction";
import type { WaveformGroup } from "./viewer/wire";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Sign-in answers: wrong passwords left before it slows down, seconds to wait. */
    readonly hint: { attempts_left?: number; retry_after?: number } = {},
  ) {
    super(message);
  }
}

type Listener = (error: ApiError) => void;
const listeners = new Set<Listener>();

/** Called for every 401 (session ended) and 423 (session locked) answer. */
export function onAuthProblem(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)renkei_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** Sends a request; a failure becomes an ApiError (401 and 423 also tell the listeners). */
async function send(method: string, path: string, body?: BodyInit, contentType?: string, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (contentType) headers["content-type"] = contentType;
  if (method !== "GET") headers["x-csrf-token"] = csrfToken();
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, credentials: "same-origin", cache: "no-store", signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(0, "network", "network error");
  }
  if (response.ok) return response;
  let json: unknown = null;
  try {
    json = await response.json();
  } catch {
    /* empty or not JSON */
  }
  const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
  const code = err?.code ?? (json as { code?: string } | null)?.code ?? `http_${response.status}`;
  const flat = (json ?? {}) as { attempts_left?: number; retry_after?: number };
  const error = new ApiError(response.status, code, err?.message ?? response.statusText, {
    attempts_left: flat.attempts_left,
    retry_after: flat.retry_after,
  });
  if (response.status === 401 || response.status === 423) {
    if (!path.startsWith("/api/v1/auth/")) listeners.forEach((l) => l(error));
  }
  throw error;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(
    method,
    path,
    body === undefined ? undefined : JSON.stringify(body),
    body === undefined ? undefined : "application/json",
  );
  if (response.status === 204) return undefined as T;
  try {
    return (await response.json()) as T;
  } catch {
    return undefined as T;
  }
}

/** A binary GET (frames, images): the response, or an ApiError. */
export function getBinary(path: string, signal?: AbortSignal): Promise<Response> {
  return send("GET", path, undefined, undefined, signal);
}

type Schemas = components["schemas"];
const enc = encodeURIComponent;

export const api = {
  login: (login: string, password: string) =>
    request<Schemas["LoginResponse"]>("POST", "/api/v1/auth/login", { login, password }),
  secondFactorStatus: () =>
    request<Schemas["SecondFactorStatus"]>("GET", "/api/v1/auth/second-factor"),
  verifySecondFactor: (code: string) =>
    request<Schemas["Passed"]>("POST", "/api/v1/auth/second-factor", { code }),
  startEnrollment: () =>
    request<Schemas["Enrollment"]>("POST", "/api/v1/me/second-factor/enrollment"),
  confirmEnrollment: (code: string) =>
    request<Schemas["Enrolled"]>("POST", "/api/v1/me/second-factor/enrollment/confirm", { code }),
  passkeyChallenge: () => request<Schemas["Ceremony"]>("POST", "/api/v1/auth/passkey/challenge"),
  passkeySignIn: (challenge_id: Uuid, credential: Record<string, unknown>) =>
    request<Schemas["LoginResponse"]>("POST", "/api/v1/auth/passkey", { challenge_id, credential }),
  passkeySecondFactor: (challenge_id: Uuid, credential: Record<string, unknown>) =>
    request<void>("POST", "/api/v1/auth/second-factor/passkey", { challenge_id, credential }),
  passkeys: () => request<Schemas["PasskeyView"][]>("GET", "/api/v1/me/passkeys"),
  startPasskeyRegistration: () =>
    request<Schemas["Ceremony"]>("POST", "/api/v1/me/passkeys/registration"),
  addPasskey: (challenge_id: Uuid, name: string, credential: Record<string, unknown>) =>
    request<Schemas["PasskeyView"]>("POST", "/api/v1/me/passkeys", { challenge_id, name, credential }),
  removePasskey: (id: Uuid) => request<void>("DELETE", `/api/v1/me/passkeys/${id}`),
  logout: () => request<void>("POST", "/api/v1/auth/logout"),
  unlock: (passcode: string) => request<void>("POST", "/api/v1/auth/unlock", { passcode }),
  me: () => request<Me>("GET", "/api/v1/me"),
  changePassword: (current_password: string, new_password: string) =>
    request<void>("PUT", "/api/v1/me/password", { current_password, new_password }),
  setPasscode: (passcode: string) => request<void>("PUT", "/api/v1/me/passcode", { passcode }),
  conversations: () => request<Conversation[]>("GET", "/api/v1/conversations"),
  conversation: (id: Uuid) => request<Conversation>("GET", `/api/v1/conversations/${id}`),
  createConversation: (kind: "direct" | "group", member_ids: Uuid[], title?: string) =>
    request<Conversation>("POST", "/api/v1/conversations", { kind, member_ids, title }),
  members: (id: Uuid) => request<Member[]>("GET", `/api/v1/conversations/${id}/members`),
  history: (id: Uuid, beforeSeq?: number, limit = 50) =>
    request<Message[]>(
      "GET",
      `/api/v1/conversations/${id}/messages?limit=${limit}` +
        (beforeSeq ? `&before_seq=${beforeSeq}` : ""),
    ),
  post: (id: Uuid, message: OutgoingMessage) =>
    request<Schemas["PostAck"]>("POST", `/api/v1/conversations/${id}/messages`, message),
  markRead: (id: Uuid, seq: number) =>
    request<Schemas["ReadState"]>("POST", `/api/v1/conversations/${id}/read`, { seq }),
  receipts: (id: Uuid, seq: number) =>
    request<Receipts>("GET", `/api/v1/conversations/${id}/messages/${seq}/receipts`),
  /** The organization's people: full records for its administrators, directory entries
   * (no login, roles or security state) for everyone else. */
  orgUsers: (orgId: Uuid) => request<Person[]>("GET", `/api/v1/orgs/${orgId}/users?limit=500`),
  user: (id: Uuid) => request<User>("GET", `/api/v1/users/${id}`),
  updateOrg: (org: Organization, patch: Partial<Organization>) =>
    request<Organization>("PATCH", `/api/v1/orgs/${org.id}`, { version: org.version, ...patch }),
  editMessage: (id: Uuid, seq: number, body: string) =>
    request<Message>("PATCH", `/api/v1/conversations/${id}/messages/${seq}`, { body }),
  deleteMessage: (id: Uuid, seq: number) => request<void>("DELETE", `/api/v1/conversations/${id}/messages/${seq}`),
  inbox: (offset = 0, limit = 50) => request<Study[]>("GET", `/api/v1/studies?offset=${offset}&limit=${limit}`),
  study: (id: Uuid) => request<StudyDetail>("GET", `/api/v1/studies/${id}`),
  studyCard: (id: Uuid) => request<Study>("GET", `/api/v1/studies/${id}/card`),
  confirmClean: (id: Uuid) => request<Schemas["ConfirmedClean"]>("POST", `/api/v1/studies/${id}/confirm-clean`),
  annotations: (id: Uuid) => request<FrameAnnotations[]>("GET", `/api/v1/studies/${id}/annotations`),
  saveAnnotations: (id: Uuid, sopUid: string, frame: number, shapes: Shape[]) =>
    request<FrameAnnotations>("POST", `/api/v1/studies/${id}/annotations`, { sop_uid: sopUid, frame, shapes }),
  instances: (id: Uuid, seriesUid: string) =>
    request<Instance[]>("GET", `/api/v1/studies/${id}/series/${enc(seriesUid)}/instances`),
  waveforms: (id: Uuid, sopUid: string) =>
    request<WaveformGroup[]>("GET", `/api/v1/studies/${id}/instances/${enc(sopUid)}/waveforms`),
  redact: (id: Uuid, sopUid: string, rectangles: Area[]) =>
    request<Redacted>("POST", `/api/v1/studies/${id}/instances/${enc(sopUid)}/redactions`, { rectangles }),
  redactionRuleFrom: (id: Uuid, sopUid: string, rectangles: Area[]) =>
    request<RedactionRule>("POST", `/api/v1/studies/${id}/instances/${enc(sopUid)}/redaction-rule`, { rectangles }),
  media: (id: Uuid, conversation?: Uuid) => request<Media>("GET", `/api/v1/media/${id}${through(conversation)}`),
  upload: async (file: Blob, name: string, signal?: AbortSignal) =>
    (await (
      await send("POST", `/api/v1/media?name=${enc(name)}`, file, file.type || "application/octet-stream", signal)
    ).json()) as Schemas["Uploaded"],
};

/** URLs of a study's images (same origin; the session cookie authenticates them). */
export const studyUrls = {
  raw: (id: Uuid, sop: string, frame: number) => `/api/v1/studies/${id}/instances/${enc(sop)}/frames/${frame}/raw`,
  rendered: (id: Uuid, sop: string, frame: number, viewport?: [number, number], format: "png" | "jpeg" = "png") =>
    `/api/v1/studies/${id}/instances/${enc(sop)}/frames/${frame}/rendered?format=${format}` +
    (viewport ? `&viewport=${viewport[0]},${viewport[1]}` : ""),
  /** the inbox card's key frame, a small JPEG */
  thumbnail: (id: Uuid) => `/api/v1/studies/${id}/thumbnail`,
};

/** `?conversation=…` when a medium is read through a conversation (its retention applies). */
function through(conversation?: Uuid): string {
  return conversation ? `?conversation=${conversation}` : "";
}

export const mediaUrls = {
  content: (id: Uuid, conversation?: Uuid) => `/api/v1/media/${id}/content${through(conversation)}`,
  thumbnail: (id: Uuid, conversation?: Uuid) => `/api/v1/media/${id}/thumbnail${through(conversation)}`,
};
