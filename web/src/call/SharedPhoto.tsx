//! A photo in the photo view, shareable in a call: the leader's pointer (0..1 of the image)
//! goes to the others, whose view shows it as a dot.

import { useRef, type PointerEvent } from "react";
import { session } from "../session";
import { useSharedView } from "./useSharedView";

export function SharedPhoto({ id, src, alt }: { id: string; src: string; alt: string }) {
  const { role, view } = useSharedView({ kind: "media", id });
  const img = useRef<HTMLImageElement>(null);
  const move = (e: PointerEvent<HTMLImageElement> | null) => {
    if (role !== "leader") return;
    const r = img.current?.getBoundingClientRect();
    if (!e || !r || r.width === 0) return session.calls.shareState({ pointer: null });
    session.calls.shareState({ pointer: { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height } });
  };
  const pointer = role === "follower" ? view?.state.pointer : null;
  return (
    <span className="shared-photo">
      <img ref={img} src={src} alt={alt} onPointerMove={move} onPointerLeave={() => move(null)} />
      {pointer && <span className="share-pointer" aria-hidden="true" style={{ display: "block", left: `${pointer.x * 100}%`, top: `${pointer.y * 100}%` }} />}
    </span>
  );
}
