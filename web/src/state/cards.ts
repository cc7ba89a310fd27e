//! Study cards and media records that the chat shows, fetched once per session and kept in
//! memory only (forgotten when the app locks or signs out).

import { api, ApiError } from "../api";
import { session } from "../session";
import type { Media, Study, Uuid } from "../types";
import type { FrameAnnotations } from "./annotations";

export type Card<T> = { state: "loading" } | { state: "ok"; value: T } | { state: "expired" } | { state: "unavailable" };

const studies = new Map<Uuid, Promise<Card<Study>>>();
const media = new Map<Uuid, Promise<Card<Media>>>();
const annotations = new Map<Uuid, Promise<Card<FrameAnnotations[]>>>();

session.subscribe(() => {
  if (session.state.phase !== "ready") {
    studies.clear();
    media.clear();
    annotations.clear();
  }
});

function settle<T>(p: Promise<T>, expiredCode: string): Promise<Card<T>> {
  return p.then(
    (value) => ({ state: "ok", value }) as Card<T>,
    (e) => (e instanceof ApiError && (e.status === 410 || e.code === expiredCode) ? { state: "expired" } : { state: "unavailable" }),
  );
}

export function studyCard(id: Uuid): Promise<Card<Study>> {
  let p = studies.get(id);
  if (!p) {
    p = settle(api.studyCard(id), "study_expired");
    studies.set(id, p);
  }
  return p;
}

/** A study's stored annotations, for key images (a new one is asked for again: `fresh`). */
export function annotationsCard(id: Uuid, fresh = false): Promise<Card<FrameAnnotations[]>> {
  let p = annotations.get(id);
  if (!p || fresh) {
    p = settle(api.annotations(id), "study_expired");
    annotations.set(id, p);
  }
  return p;
}

/** A medium's record, read through `conversation` when given: "expired" there once the
 * conversation's retention hid it, even if it lives on elsewhere. */
export function mediaCard(id: Uuid, conversation?: Uuid): Promise<Card<Media>> {
  const key = conversation ? `${conversation}/${id}` : id;
  let p = media.get(key);
  if (!p) {
    p = settle(api.media(id, conversation), "media_expired").then((c) => (c.state === "ok" && c.value.expired ? { state: "expired" } : c));
    media.set(key, p);
  }
  return p;
}

/** A record this client just created (an upload) is known without asking. */
export function rememberMedia(m: Media) {
  media.set(m.id, Promise.resolve({ state: "ok", value: m }));
}
