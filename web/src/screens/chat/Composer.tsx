// The message composer: text with @mentions, urgent flag, photos and files, reply and edit.

import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { session } from "../../session";
import { useI18n } from "../../i18n/i18n";
import { matchesPerson } from "../../state/people";
import { completeMention, mentionedIds, mentionQuery } from "../../state/mentions";
import type { Message, Person, Uuid } from "../../types";
import { Avatar, Icon } from "../common";
import { UploadTray, useUploads } from "../Attachments";

export function Composer(props: {
  id: Uuid;
  members: Person[];
  editing: Message | null;
  onCancelEdit: () => void;
  replyTo: Message | null;
  replyName: string;
  onCancelReply: () => void;
  onSent: () => void;
}) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [urgent, setUrgent] = useState(false);
  const [caret, setCaret] = useState(0);
  const [pick, setPick] = useState(0);
  const [editError, setEditError] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const camera = useRef<HTMLInputElement>(null);
  const files = useRef<HTMLInputElement>(null);
  const { uploads, add, remove, retry, replace, clear } = useUploads();
  const { editing } = props;

  useEffect(() => {
    if (props.replyTo) input.current?.focus();
  }, [props.replyTo]);

  useEffect(() => {
    if (!editing) return;
    setText(editing.body);
    setEditError(false);
    input.current?.focus();
  }, [editing]);

  const query = mentionQuery(text, caret);
  const suggestions = query
    ? props.members.filter((u) => matchesPerson(u, query.query)).slice(0, 6)
    : [];

  const choose = (u: Person) => {
    if (!query) return;
    const next = completeMention(text, query.start, caret, u.display_name);
    setText(next.text);
    setCaret(next.caret);
    setPick(0);
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(next.caret, next.caret);
    });
  };

  const uploading = uploads.some((u) => u.status !== "done");
  const ready = uploads.filter((u) => u.status === "done" && u.media).map((u) => ({ kind: "media", id: u.media!.id, name: u.media!.name }));

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if (editing) {
      if (!body) return;
      try {
        await session.messages.edit(props.id, editing.seq, body);
        setText("");
        props.onCancelEdit();
      } catch {
        setEditError(true);
      }
      return;
    }
    if ((!body && ready.length === 0) || uploading) return;
    session.sender.send(props.id, body, urgent ? "urgent" : "normal", props.replyTo?.seq ?? null, {
      mentions: mentionedIds(body, props.members),
      attachments: ready,
    });
    setText("");
    setUrgent(false);
    clear();
    props.onSent();
    input.current?.focus();
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggestions.length > 0) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        setPick((p) => (p + (e.key === "ArrowDown" ? 1 : suggestions.length - 1)) % suggestions.length);
        return;
      }
      if ((e.key === "Enter" || e.key === "Tab") && !e.nativeEvent.isComposing) {
        e.preventDefault();
        choose(suggestions[Math.min(pick, suggestions.length - 1)]);
        return;
      }
    }
    if (e.key === "Escape" && editing) {
      setText("");
      props.onCancelEdit();
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      void send();
    }
  };

  const canSend = editing ? !!text.trim() && text.trim() !== editing.body : (!!text.trim() || ready.length > 0) && !uploading;

  return (
    <form className={`composer ${urgent ? "is-urgent" : ""} ${editing ? "is-editing" : ""}`} onSubmit={send}>
      {editing && (
        <div className="reply-bar">
          <Icon name="edit" />
          <div>
            <strong>{t("chat.editing")}</strong>
            <span>{editError ? t("common.error") : editing.body}</span>
          </div>
          <button
            type="button"
            className="icon-button"
            aria-label={t("chat.cancelEdit")}
            onClick={() => {
              setText("");
              props.onCancelEdit();
            }}
          >
            <Icon name="close" />
          </button>
        </div>
      )}
      {props.replyTo && !editing && (
        <div className="reply-bar">
          <Icon name="reply" />
          <div>
            <strong>{t("chat.replyingTo", { name: props.replyName })}</strong>
            <span>{props.replyTo.body}</span>
          </div>
          <button type="button" className="icon-button" aria-label={t("chat.cancelReply")} onClick={props.onCancelReply}>
            <Icon name="close" />
          </button>
        </div>
      )}
      <UploadTray uploads={uploads} onRemove={remove} onRetry={retry} onReplace={replace} />
      {suggestions.length > 0 && (
        <ul className="mention-list" role="listbox" aria-label={t("chat.mentionPick")}>
          {suggestions.map((u, i) => (
            <li key={u.id} role="option" aria-selected={i === pick}>
              <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => choose(u)}>
                <Avatar name={u.display_name} id={u.id} size={36} />
                <span>{u.display_name}</span>
                <small>{u.kana}</small>
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-row">
        {!editing && (
          <>
            <input
              ref={camera}
              type="file"
              accept="image/*"
              capture="environment"
              className="visually-hidden"
              tabIndex={-1}
              aria-label={t("attach.camera")}
              onChange={(e) => {
                if (e.target.files?.length) add(e.target.files);
                e.target.value = "";
              }}
            />
            <input
              ref={files}
              type="file"
              multiple
              className="visually-hidden"
              tabIndex={-1}
              aria-label={t("attach.files")}
              onChange={(e) => {
                if (e.target.files?.length) add(e.target.files);
                e.target.value = "";
              }}
            />
            <button type="button" className="icon-button composer-tool" aria-label={t("attach.camera")} title={t("attach.camera")} onClick={() => camera.current?.click()}>
              <Icon name="camera" />
            </button>
            <button type="button" className="icon-button composer-tool" aria-label={t("attach.files")} title={t("attach.files")} onClick={() => files.current?.click()}>
              <Icon name="attach" />
            </button>
            <button
              type="button"
              className={`urgent-toggle ${urgent ? "on" : ""}`}
              aria-pressed={urgent}
              aria-label={urgent ? t("chat.urgentOn") : t("chat.urgentOff")}
              title={t("chat.urgent")}
              onClick={() => setUrgent(!urgent)}
            >
              <Icon name="alert" />
              <span className="urgent-label">{t("chat.urgent")}</span>
            </button>
          </>
        )}
        <textarea
          ref={input}
          rows={1}
          aria-label={t("chat.placeholder")}
          placeholder={t("chat.placeholder")}
          value={text}
          aria-autocomplete="list"
          aria-expanded={suggestions.length > 0}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart ?? e.target.value.length);
            setPick(0);
            if (e.target.value && !editing) session.messages.typing(props.id);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={onKey}
        />
        <button
          type="submit"
          className="send"
          aria-label={editing ? t("chat.saveEdit") : t("chat.send")}
          title={editing ? t("chat.saveEdit") : t("chat.send")}
          disabled={!canSend}
        >
          <Icon name={editing ? "check" : "send"} />
        </button>
      </div>
    </form>
  );
}

