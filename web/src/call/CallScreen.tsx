//! The call screens (a lazily loaded chunk): the incoming call over anything, the call itself
//! (1:1: the other's video with one's own preview; group: a grid whose tiles tell the SFU what
//! they show), the bar over the chat while the call runs folded, why a call ended, and refusals.

import { useEffect, useRef, useState, type RefObject } from "react";
import { session } from "../session";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import { callStatus, durationLabel, endedKey, gridColumns, type CallInfo, type CallParticipant } from "../state/call";
import { Avatar, conversationTitle } from "../screens/common";
import { conversationAvatarId } from "../state/avatar";
import type { MessageKey } from "../i18n/catalog";
import type { Uuid } from "../types";
import { CallIcon } from "./icons";
import { useCalls } from "./useCalls";
import type { CallSnapshot } from "./controller";
import "./call.css";

export default function CallScreen() {
  const calls = useCalls();
  const state = useSession();
  const { t } = useI18n();
  const shown = calls.shown;
  const self = { user: state.me?.user.id ?? "", conn: null };
  const screen = calls.screen;
  const name = (id: Uuid) => state.users[id]?.display_name ?? t("chat.unknownUser");
  const conv = shown ? state.conversations.find((c) => c.id === shown.conversation_id) : undefined;
  // The call's title as last seen: a member removed mid-call loses the conversation, and the
  // screen that says so still names it.
  const seen = useRef<{ call: Uuid; title: string } | null>(null);
  const title = conv ? conversationTitle(conv, state, t("chat.unknownUser")) : shown && seen.current?.call === shown.id ? seen.current.title : shown ? name(shown.started_by) : "";
  if (shown && conv) seen.current = { call: shown.id, title };
  const group = shown?.mode === "sfu" || conv?.kind === "group";

  return (
    <>
      {calls.problem && (
        <div className="call-problem" role="alert">
          <span>{t(calls.problem as MessageKey)}</span>
          <button type="button" className="icon-button" aria-label={t("common.close")} onClick={() => session.calls.dismiss()}>
            <CallIcon name="close" size={20} />
          </button>
        </div>
      )}
      {shown && screen?.screen === "incoming" && <Incoming call={shown} title={title} caller={name(shown.started_by)} group={group} />}
      {shown && screen?.screen === "ended" && (
        <div className="call-screen call-ended" role="dialog" aria-modal="true" aria-label={t(endedKey(shown, self))}>
          <div className="call-center">
            <Avatar name={title} id={conv ? conversationAvatarId(conv, state.peers[conv.id]) : shown.conversation_id} size={96} group={group} />
            <h2>{title}</h2>
            <p className="call-status ended" role="status">
              {t(endedKey(shown, self))}
            </p>
          </div>
          <div className="call-controls">
            <button type="button" className="call-button" onClick={() => session.calls.dismiss()}>
              <span className="round">
                <CallIcon name="close" size={26} />
              </span>
              <span>{t("common.close")}</span>
            </button>
          </div>
        </div>
      )}
      {shown && (screen?.screen === "active" || screen?.screen === "outgoing") && <InCall calls={calls} call={shown} title={title} group={group} name={name} />}
    </>
  );
}

function Incoming({ call, title, caller, group }: { call: CallInfo; title: string; caller: string; group: boolean }) {
  const { t } = useI18n();
  // A phone in the hand vibrates while it rings (where the browser can).
  useEffect(() => {
    const buzz = () => navigator.vibrate?.([600, 400, 600]);
    buzz();
    const timer = setInterval(buzz, 3000);
    return () => {
      clearInterval(timer);
      navigator.vibrate?.(0);
    };
  }, []);
  const video = call.media === "video";
  return (
    <div className="call-screen call-incoming" role="alertdialog" aria-modal="true" aria-labelledby="call-incoming-title" aria-describedby="call-incoming-kind">
      <div className="call-center">
        <div className="call-pulse">
          <Avatar name={group ? title : caller} id={group ? call.conversation_id : call.started_by} size={112} group={group} />
        </div>
        <h2 id="call-incoming-title">{group ? t("call.groupFrom", { name: caller, group: title }) : caller}</h2>
        <p className="call-status" id="call-incoming-kind">
          {t(video ? "call.incomingVideo" : "call.incomingVoice")}
        </p>
      </div>
      <div className="call-controls incoming">
        <button type="button" className="call-button" onClick={() => session.calls.decline()}>
          <span className="round danger">
            <CallIcon name="hangUp" size={30} />
          </span>
          <span>{t("call.decline")}</span>
        </button>
        <button type="button" className="call-button" onClick={() => session.calls.accept("audio")}>
          <span className="round accept">
            <CallIcon name="phone" size={28} />
          </span>
          <span>{t("call.acceptVoice")}</span>
        </button>
        {video && (
          <button type="button" className="call-button" onClick={() => session.calls.accept("video")}>
            <span className="round accept">
              <CallIcon name="video" size={28} />
            </span>
            <span>{t("call.acceptVideo")}</span>
          </button>
        )}
      </div>
    </div>
  );
}

function InCall({ calls, call, title, group, name }: { calls: CallSnapshot; call: CallInfo; title: string; group: boolean; name: (id: Uuid) => string }) {
  const { t } = useI18n();
  const state = useSession();
  const screen = calls.screen;
  const others = screen?.screen === "active" ? screen.others : [];
  const mainVideo = useRef<HTMLVideoElement>(null);
  const speaker = useSpeaker();
  const since = useActiveSince(others.length > 0);
  const now = useTick(since !== null);
  useWakeLock(true);
  usePictureInPicture(mainVideo, !group && others.length > 0);

  const minimized = calls.minimized;
  // The bar takes the top of the screen: the app and the viewer move down under it.
  useEffect(() => {
    document.body.classList.toggle("has-call-bar", minimized);
    return () => document.body.classList.remove("has-call-bar");
  }, [minimized]);
  const other = others[0];
  const link = group ? calls.links.sfu : other ? calls.links[other.conn] : undefined;
  const statusKey = callStatus(screen, link, calls.reconnecting);
  const status =
    statusKey === "ringingOut"
      ? t("call.ringingOut")
      : statusKey === "reconnecting"
        ? t("call.reconnecting")
        : statusKey === "connecting"
          ? t("call.connecting")
          : since !== null
            ? durationLabel(now - since)
            : "";
  const hasVideo = !!calls.local?.getVideoTracks().length;
  const blocked = calls.shared && !calls.shared.allowed ? t("call.notAllowed", { name: name(calls.shared.leader) }) : null;

  return (
    <>
      {minimized && (
        <div className="call-bar" role="region" aria-label={t("call.inCall")}>
          <button type="button" className="call-bar-main" onClick={() => session.calls.minimize(false)} aria-label={t("call.return")}>
            <CallIcon name={call.media === "video" ? "video" : "phone"} size={18} />
            <span className="call-bar-title">{title}</span>
            <span className="call-bar-status">{status}</span>
          </button>
          <button type="button" className={`call-bar-button ${calls.audio ? "" : "off"}`} aria-pressed={!calls.audio} aria-label={calls.audio ? t("call.mute") : t("call.unmute")} onClick={() => session.calls.setAudio(!calls.audio)}>
            <CallIcon name={calls.audio ? "mic" : "micOff"} size={20} />
          </button>
          <button type="button" className="call-bar-button danger" aria-label={t("call.hangUp")} onClick={() => session.calls.leave()}>
            <CallIcon name="hangUp" size={20} />
          </button>
          {blocked && <p className="call-bar-notice" role="note">{blocked}</p>}
        </div>
      )}
      <div className={`call-screen call-in ${minimized ? "folded" : ""} ${group ? "group" : "one"}`} role="dialog" aria-modal={!minimized} aria-label={title} aria-hidden={minimized}>
        <header className="call-top">
          <button type="button" className="icon-button on-dark" aria-label={t("call.minimize")} title={t("call.minimize")} onClick={() => session.calls.minimize(true)}>
            <CallIcon name="minimize" />
          </button>
          <div className="call-titles">
            <h2>{title}</h2>
            <span className="call-status" role="status">
              {group && others.length > 0 ? `${t("call.inGroup", { n: others.length + 1 })} · ${status}` : status}
            </span>
          </div>
        </header>
        {blocked && <p className="call-notice" role="note">{blocked}</p>}
        {group ? (
          <GroupGrid calls={calls} others={others} name={name} me={state.me?.user.id ?? ""} sinkId={speaker.sinkId} />
        ) : (
          <div className="call-stage">
            {other && calls.remotes[other.conn] ? (
              <MediaView stream={calls.remotes[other.conn]} className={`call-remote ${other.video ? "" : "hidden-video"}`} videoRef={mainVideo} sinkId={speaker.sinkId} label={name(other.user_id)} />
            ) : null}
            {!other && hasVideo && calls.local && <MediaView stream={calls.local} muted mirror={calls.facing === "user"} className="call-remote" label={t("call.you")} />}
            {((!other && !hasVideo) || (other && (!other.video || call.media === "audio"))) && (
              <div className="call-center">
                <Avatar name={title} id={other?.user_id ?? call.conversation_id} size={112} />
                <h2 className="call-peer-name">{other ? name(other.user_id) : title}</h2>
              </div>
            )}
            {other && !other.audio && (
              <span className="call-badge" role="status">
                <CallIcon name="micOff" size={16} /> {t("call.muted")}
              </span>
            )}
            {other && hasVideo && calls.local && <MediaView stream={calls.local} muted mirror={calls.facing === "user"} className={`call-self ${calls.video ? "" : "off"}`} label={t("call.you")} />}
          </div>
        )}
        <div className="call-controls">
          <ControlButton icon={calls.audio ? "mic" : "micOff"} label={calls.audio ? t("call.mute") : t("call.unmute")} short={t("call.short.mute")} pressed={!calls.audio} onClick={() => session.calls.setAudio(!calls.audio)} />
          <ControlButton icon={calls.video && hasVideo ? "video" : "videoOff"} label={calls.video && hasVideo ? t("call.cameraOff") : t("call.cameraOn")} short={t("call.short.camera")} pressed={!(calls.video && hasVideo)} onClick={() => void session.calls.setVideo(!(calls.video && hasVideo))} />
          {hasVideo && <ControlButton icon="flip" label={t("call.switchCamera")} short={t("call.short.flip")} onClick={() => void session.calls.switchCamera()} />}
          {speaker.supported && <ControlButton icon="speaker" label={t("call.speaker", { name: speaker.label || t("call.speakerDefault") })} short={t("call.short.speaker")} onClick={speaker.next} />}
          <ControlButton icon="hangUp" label={t("call.hangUp")} short={t("call.hangUp")} danger onClick={() => session.calls.leave()} />
        </div>
        <p className="call-foot">{t("call.noRecording")}</p>
      </div>
    </>
  );
}

function ControlButton(props: { icon: Parameters<typeof CallIcon>[0]["name"]; label: string; short: string; onClick: () => void; pressed?: boolean; danger?: boolean }) {
  return (
    <button type="button" className="call-button" aria-label={props.label} aria-pressed={props.pressed} onClick={props.onClick}>
      <span className={`round ${props.danger ? "danger" : ""} ${props.pressed ? "off" : ""}`}>
        <CallIcon name={props.icon} size={26} />
      </span>
      <span className="call-button-label" aria-hidden="true">
        {props.short}
      </span>
    </button>
  );
}

/** A group call's tiles: one's own preview first, then each other participant; each tile tells
 * the SFU its shown size and whether it is on screen. */
function GroupGrid({ calls, others, name, me, sinkId }: { calls: CallSnapshot; others: CallParticipant[]; name: (id: Uuid) => string; me: Uuid; sinkId: string }) {
  const { t } = useI18n();
  const tiles = useRef(new Map<string, HTMLElement>());
  const seen = useRef(new Map<string, { width: number; height: number; visible: boolean }>());

  useEffect(() => {
    const report = () => {
      void Promise.all(
        [...seen.current.entries()].map(async ([conn, s]) => ({ conn, mid: await session.calls.midOf(conn), ...s })),
      ).then((wants) => session.calls.layers(wants.map((w) => ({ ...w, mid: w.mid ?? undefined }))));
    };
    const sizeOf = (el: Element) => ({ width: Math.round(el.clientWidth * devicePixelRatio), height: Math.round(el.clientHeight * devicePixelRatio) });
    const visibility = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const conn = (e.target as HTMLElement).dataset.conn!;
        seen.current.set(conn, { ...sizeOf(e.target), visible: e.isIntersecting && document.visibilityState === "visible" });
      }
      report();
    });
    const sizes = new ResizeObserver((entries) => {
      for (const e of entries) {
        const conn = (e.target as HTMLElement).dataset.conn!;
        const before = seen.current.get(conn);
        seen.current.set(conn, { ...sizeOf(e.target), visible: before?.visible ?? true });
      }
      report();
    });
    for (const el of tiles.current.values()) {
      visibility.observe(el);
      sizes.observe(el);
    }
    const hidden = () => {
      for (const [conn, s] of seen.current) seen.current.set(conn, { ...s, visible: s.visible && document.visibilityState === "visible" });
      report();
    };
    document.addEventListener("visibilitychange", hidden);
    return () => {
      visibility.disconnect();
      sizes.disconnect();
      document.removeEventListener("visibilitychange", hidden);
      seen.current.clear();
    };
  }, [others.map((o) => o.conn).join(",")]);

  const columns = gridColumns(others.length + 1);
  // The last tile of an odd row of two takes the whole row.
  const wide = (index: number) => columns === 2 && (others.length + 1) % 2 === 1 && index === others.length;
  return (
    <div className="call-grid" style={{ gridTemplateColumns: `repeat(${columns}, 1fr)` }} data-tiles={others.length + 1}>
      <div className="call-tile mine">
        {calls.local && calls.video && calls.local.getVideoTracks().length > 0 ? (
          <MediaView stream={calls.local} muted mirror={calls.facing === "user"} className="call-tile-video" label={t("call.you")} />
        ) : (
          <Avatar name={name(me)} id={me} size={64} />
        )}
        <span className="call-tile-name">
          {t("call.you")}
          {!calls.audio && <CallIcon name="micOff" size={14} />}
        </span>
      </div>
      {others.map((p, i) => {
        const stream = calls.remotes[p.conn];
        const video = p.video && !!stream?.getVideoTracks().length;
        return (
          <div
            key={p.conn}
            className={`call-tile ${wide(i + 1) ? "wide" : ""}`}
            data-conn={p.conn}
            ref={(el) => {
              if (el) tiles.current.set(p.conn, el);
              else tiles.current.delete(p.conn);
            }}
          >
            {stream && <MediaView stream={stream} className={`call-tile-video ${video ? "" : "hidden-video"}`} sinkId={sinkId} label={name(p.user_id)} />}
            {!video && <Avatar name={name(p.user_id)} id={p.user_id} size={64} />}
            <span className="call-tile-name">
              {name(p.user_id)}
              {!p.audio && (
                <span className="call-tile-muted" aria-label={t("call.muted")}>
                  <CallIcon name="micOff" size={14} />
                </span>
              )}
            </span>
          </div>
        );
      })}
    </div>
  );
}

/** A video element playing a stream (inline on phones); audio goes to the chosen output. */
function MediaView(props: { stream: MediaStream; muted?: boolean; mirror?: boolean; className?: string; sinkId?: string; label: string; videoRef?: RefObject<HTMLVideoElement | null> }) {
  const own = useRef<HTMLVideoElement>(null);
  const ref = props.videoRef ?? own;
  useEffect(() => {
    const v = ref.current;
    if (!v) return;
    if (v.srcObject !== props.stream) v.srcObject = props.stream;
    void v.play().catch(() => undefined);
  });
  useEffect(() => {
    const v = ref.current as (HTMLVideoElement & { setSinkId?: (id: string) => Promise<void> }) | null;
    if (v?.setSinkId && props.sinkId !== undefined && !props.muted) void v.setSinkId(props.sinkId).catch(() => undefined);
  }, [props.sinkId, props.muted, ref]);
  return <video ref={ref} className={`${props.className ?? ""} ${props.mirror ? "mirror" : ""}`} autoPlay playsInline muted={props.muted} aria-label={props.label} />;
}

/** Audio outputs to choose from, where the browser lets a page choose (setSinkId). */
function useSpeaker() {
  const [outputs, setOutputs] = useState<MediaDeviceInfo[]>([]);
  const [index, setIndex] = useState(0);
  const supported = typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
  useEffect(() => {
    if (!supported || !navigator.mediaDevices?.enumerateDevices) return;
    const load = () => void navigator.mediaDevices.enumerateDevices().then((d) => setOutputs(d.filter((x) => x.kind === "audiooutput")));
    load();
    navigator.mediaDevices.addEventListener?.("devicechange", load);
    return () => navigator.mediaDevices.removeEventListener?.("devicechange", load);
  }, [supported]);
  const current = outputs[index % Math.max(1, outputs.length)];
  return {
    supported: supported && outputs.length > 1,
    sinkId: current?.deviceId ?? "",
    label: current?.label ?? "",
    next: () => setIndex((i) => (i + 1) % Math.max(1, outputs.length)),
  };
}

/** When the call got its other side (for the running time). */
function useActiveSince(active: boolean): number | null {
  const since = useRef<number | null>(null);
  if (active && since.current === null) since.current = Date.now();
  return since.current;
}

function useTick(on: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [on]);
  return now;
}

/** The screen stays on during a call; the lock is taken again when the page comes back. */
function useWakeLock(on: boolean) {
  useEffect(() => {
    const wl = (navigator as Navigator & { wakeLock?: { request(type: "screen"): Promise<{ release(): Promise<void> }> } }).wakeLock;
    if (!on || !wl) return;
    let lock: { release(): Promise<void> } | null = null;
    let live = true;
    const take = () => {
      if (document.visibilityState !== "visible") return;
      void wl.request("screen").then(
        (l) => (live ? (lock = l) : void l.release()),
        () => undefined,
      );
    };
    take();
    document.addEventListener("visibilitychange", take);
    return () => {
      live = false;
      document.removeEventListener("visibilitychange", take);
      void lock?.release().catch(() => undefined);
    };
  }, [on]);
}

/** Leaving the app during a 1:1 video call keeps the other's video in picture-in-picture. */
function usePictureInPicture(video: RefObject<HTMLVideoElement | null>, on: boolean) {
  useEffect(() => {
    if (!on || typeof document === "undefined" || !document.pictureInPictureEnabled) return;
    const change = () => {
      const v = video.current;
      if (!v) return;
      if (document.visibilityState === "hidden" && !document.pictureInPictureElement && v.videoWidth > 0) void v.requestPictureInPicture().catch(() => undefined);
      else if (document.visibilityState === "visible" && document.pictureInPictureElement) void document.exitPictureInPicture().catch(() => undefined);
    };
    document.addEventListener("visibilitychange", change);
    return () => {
      document.removeEventListener("visibilitychange", change);
      if (document.pictureInPictureElement) void document.exitPictureInPicture().catch(() => undefined);
    };
  }, [video, on]);
}

