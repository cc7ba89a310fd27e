import type { ReactNode } from "react";
import type { Conversation, Person, Uuid } from "../types";
import type { State } from "../state/store";
import { avatarColor } from "../state/avatar";

/** A person's (or group's) initial on their colour: `id` is the user's id, or the group's. */
export function Avatar({ name, id, size = 44, group = false }: { name: string; id: string; size?: number; group?: boolean }) {
  const color = avatarColor(id);
  const initial = group ? "" : [...name.trim()][0] ?? "?";
  return (
    // Set through the CSSOM (allowed by the style-src 'self' policy, unlike style attributes).
    <span className={`avatar size-${size}`} style={{ backgroundColor: color }} aria-hidden="true">
      {group ? <GroupIcon /> : initial}
    </span>
  );
}

export function GroupIcon() {
  return (
    <svg viewBox="0 0 24 24" width="22" height="22" focusable="false" aria-hidden="true">
      <path
        fill="currentColor"
        d="M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8Zm7.5-1a3 3 0 1 0 0-6 3 3 0 0 0 0 6ZM9 13c-3.3 0-7 1.6-7 4v2a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-2c0-2.4-3.7-4-7-4Zm7.5-1c-.5 0-1 0-1.5.1 1.2.9 2 2.2 2 3.9v2a2 2 0 0 1-.2 1H21a1 1 0 0 0 1-1v-1.5c0-2.3-3-4.5-5.5-4.5Z"
      />
    </svg>
  );
}

export type IconName =
  | "plus" | "back" | "send" | "search" | "reply" | "alert" | "lock" | "logout" | "check" | "close" | "photo" | "study" | "file"
  | "chat" | "camera" | "attach" | "edit" | "trash" | "more" | "download" | "expired" | "down" | "info" | "bell";

export function Icon({ name }: { name: IconName }) {
  const paths: Record<string, string> = {
    plus: "M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z",
    back: "M15.4 5.4 14 4l-8 8 8 8 1.4-1.4L8.8 12z",
    send: "M3 20.5 21 12 3 3.5v6.6l12 1.9-12 1.9z",
    search: "M10 4a6 6 0 0 1 4.8 9.6l5.3 5.3-1.4 1.4-5.3-5.3A6 6 0 1 1 10 4Zm0 2a4 4 0 1 0 0 8 4 4 0 0 0 0-8Z",
    reply: "M10 8V4l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z",
    alert: "M12 2 1 21h22L12 2Zm1 15h-2v-2h2v2Zm0-4h-2V9h2v4Z",
    lock: "M12 2a5 5 0 0 0-5 5v3H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8a2 2 0 0 0-2-2h-1V7a5 5 0 0 0-5-5Zm-3 5a3 3 0 1 1 6 0v3H9V7Z",
    logout: "M10 17v-2h6V9h-6V7l-5 5 5 5Zm9-14H11v2h8v14h-8v2h8a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2Z",
    check: "M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z",
    close: "M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z",
    photo: "M21 19V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2ZM8.5 13.5l2.5 3 3.5-4.5 4.5 6H5l3.5-4.5Z",
    study: "M4 4h16v12H4V4Zm2 2v8h12V6H6Zm-2 12h16v2H4v-2Zm5-9h6v2H9V9Z",
    file: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6Zm0 7V3.5L19.5 9H14Z",
    chat: "M6 4h14a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2Zm0 5v2h12V9H6Zm0 4v2h8v-2H6Z",
    camera: "M9 3 7.2 5H4a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15 3H9Zm3 5a5 5 0 1 1 0 10 5 5 0 0 1 0-10Zm0 2a3 3 0 1 0 0 6 3 3 0 0 0 0-6Z",
    attach: "M16.5 6v11.5a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6H9v9.5a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v12.5a6 6 0 0 0 12 0V6h-1.5Z",
    edit: "M3 17.2V21h3.8L17.8 9.9l-3.7-3.7L3 17.2ZM20.7 7a1 1 0 0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 1.8 3.7 3.7L20.7 7Z",
    trash: "M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12ZM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4Z",
    more: "M12 8a2 2 0 1 0 0-4 2 2 0 0 0 0 4Zm0 2a2 2 0 1 0 0 4 2 2 0 0 0 0-4Zm0 6a2 2 0 1 0 0 4 2 2 0 0 0 0-4Z",
    download: "M5 20h14v-2H5v2ZM19 9h-4V3H9v6H5l7 7 7-7Z",
    expired: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm1 11h-2V7h2v6Zm0 4h-2v-2h2v2Z",
    down: "M7.4 8.6 12 13.2l4.6-4.6L18 10l-6 6-6-6z",
    bell: "M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2Zm6-6V11c0-3.1-1.6-5.6-4.5-6.3V4a1.5 1.5 0 0 0-3 0v.7C7.6 5.4 6 7.9 6 11v5l-2 2v1h16v-1l-2-2Z",
    info: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm1 15h-2v-6h2v6Zm0-8h-2V7h2v2Z",
  };
  return (
    <svg viewBox="0 0 24 24" width="22" height="22" focusable="false" aria-hidden="true">
      <path fill="currentColor" d={paths[name]} />
    </svg>
  );
}

/** A conversation's name: the group's title, or the other person's name. */
export function conversationTitle(c: Conversation, state: Pick<State, "peers" | "users">, unknown: string): string {
  if (c.kind === "group") return c.title ?? unknown;
  const peer = state.peers[c.id];
  return (peer && state.users[peer]?.display_name) || c.title || unknown;
}

export function peerOf(c: Conversation, state: Pick<State, "peers" | "users">): Person | undefined {
  const peer = state.peers[c.id];
  return peer ? state.users[peer] : undefined;
}

export type { Uuid };

/** A row of a list to pick from (people, conversations): avatar, name and a line under it, and
 * a check mark when picked; `name` makes the choices radio buttons (one of them), else boxes. */
export function PickRow(props: { on: boolean; onChange: () => void; name?: string; avatar: ReactNode; title: string; sub: ReactNode }) {
  return (
    <li>
      <label className={`person ${props.on ? "on" : ""}`}>
        <input type={props.name ? "radio" : "checkbox"} name={props.name} checked={props.on} onChange={props.onChange} />
        {props.avatar}
        <span className="person-main">
          <span className="person-name">{props.title}</span>
          <span className="person-sub">{props.sub}</span>
        </span>
        <span className="check" aria-hidden="true">
          {props.on && <Icon name="check" />}
        </span>
      </label>
    </li>
  );
}
