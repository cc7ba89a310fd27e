//! A follower's side of a shared view: the leader's study or photo opens over the app (the
//! viewer then follows the leader's view through `useSharedView`).

import { api } from "../api";
import { nav } from "../state/nav";
import type { SharedView } from "../state/sharedView";
import type { Uuid } from "../types";

/** Opens what the leader shows, unless it is already open (or may not be opened here). */
export function openShared(view: SharedView, conversation: Uuid): void {
  const id = view.target.id;
  if (!view.allowed || !id) return;
  const open = nav.get();
  if (view.target.kind === "study") {
    if (open?.kind !== "study" || open.id !== id) nav.open({ kind: "study", id });
    return;
  }
  if (open?.kind === "media" && open.media.id === id) return;
  void api.media(id, conversation).then(
    (media) => nav.open({ kind: "media", media }),
    () => undefined,
  );
}
