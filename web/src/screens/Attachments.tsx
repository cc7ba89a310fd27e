//! Attachments in chat: photo thumbnails that open full size, files to download, study cards
//! that open the viewer, "expired" once the retention period has destroyed them; and the
//! composer's picker (camera or files) with uploads in progress.

import { useCallback, useRef, useState } from "react";
import { api, mediaUrls } from "../api";
import { useCard, useFullScreen } from "../hooks";
import { useI18n } from "../i18n/i18n";
import { mediaCard, rememberMedia, studyCard } from "../state/cards";
import { nav } from "../state/nav";
import { uploadProblem } from "../state/uploadRefusal";
import type { Attachment, Media, Uuid } from "../types";
import { Icon } from "./common";
import { PhotoEditor } from "./PhotoEditor";
import { StudyCardButton } from "./StudyCard";
import { KeyImage } from "./KeyImage";
import { ShareBar } from "../call/ShareBar";
import { SharedPhoto } from "../call/SharedPhoto";

/** An attachment of a message; `conversation` is where it is shown (its retention applies). */
export function AttachmentView({ a, conversation }: { a: Attachment; conversation?: Uuid }) {
  if (a.kind === "study" && a.key_image) return <KeyImage a={a} keyImage={a.key_image} />;
  if (a.kind === "study") return <StudyAttachment a={a} />;
  return <MediaAttachment a={a} conversation={conversation} />;
}

function StudyAttachment({ a }: { a: Attachment }) {
  const card = useCard(a.id, studyCard);
  return (
    <StudyCardButton
      study={card.state === "ok" ? card.value : null}
      expired={card.state === "expired"}
      unavailable={card.state === "unavailable"}
      onOpen={() => nav.open({ kind: "study", id: a.id })}
    />
  );
}

function MediaAttachment({ a, conversation }: { a: Attachment; conversation?: Uuid }) {
  const { t } = useI18n();
  const load = useCallback((id: Uuid) => mediaCard(id, conversation), [conversation]);
  const card = useCard(a.id, load);
  if (card.state === "expired" || card.state === "unavailable") {
    return (
      <span className="attachment expired" role="note">
        <Icon name="expired" />
        <span>{card.state === "expired" ? t("attach.expired") : t("attach.unavailableNow")}</span>
      </span>
    );
  }
  if (card.state === "loading") {
    return (
      <span className="attachment">
        <Icon name="file" /> <span>{a.name ?? t("common.loading")}</span>
      </span>
    );
  }
  const m = card.value;
  if (m.kind === "photo" && m.has_thumbnail) {
    return (
      <button type="button" className="photo-thumb" onClick={() => nav.open({ kind: "media", media: m })} aria-label={t("attach.openPhoto", { name: m.name })}>
        <img src={mediaUrls.thumbnail(m.id, conversation)} alt={m.name} {...thumbSize(m.width, m.height)} />
      </button>
    );
  }
  if (m.kind === "photo" || m.kind === "video") {
    return (
      <button type="button" className="attachment" onClick={() => nav.open({ kind: "media", media: m })}>
        <Icon name="photo" /> <span>{m.name}</span>
      </button>
    );
  }
  return (
    <a className="attachment" href={mediaUrls.content(m.id, conversation)} target="_blank" rel="noopener noreferrer" download={m.kind === "file" ? m.name : undefined}>
      <Icon name="file" />
      <span>
        {m.name} <small>{sizeLabel(m.size)}</small>
      </span>
    </a>
  );
}

/** The thumbnail's box reserved before it loads, so the timeline does not jump under the reader. */
function thumbSize(width?: number | null, height?: number | null): { width?: number; height?: number } {
  if (!width || !height) return {};
  const w = Math.min(240, width);
  return { width: w, height: Math.round((w * height) / width) };
}

export function sizeLabel(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A photo or video full screen, with a download link; Escape or Back closes it. */
export function MediaViewer({ media, onClose }: { media: Media; onClose: () => void }) {
  const { t } = useI18n();
  const root = useRef<HTMLDivElement>(null);
  useFullScreen(root, onClose);
  return (
    <div className="viewer media-viewer" role="dialog" aria-modal="true" aria-label={media.name} ref={root} tabIndex={-1}>
      <header className="viewer-bar">
        <button type="button" className="icon-button on-dark" aria-label={t("common.close")} onClick={onClose}>
          <Icon name="back" />
        </button>
        <div className="viewer-titles">
          <h2>{media.name}</h2>
          <span>{sizeLabel(media.size)}</span>
        </div>
        <a className="icon-button on-dark" href={mediaUrls.content(media.id)} download={media.name} aria-label={t("attach.download")} title={t("attach.download")}>
          <Icon name="download" />
        </a>
      </header>
      {media.kind !== "video" && <ShareBar target={{ kind: "media", id: media.id }} current={() => ({ pointer: null })} />}
      <div className="media-stage">
        {media.kind === "video" ? <video src={mediaUrls.content(media.id)} controls playsInline /> : <SharedPhoto id={media.id} src={mediaUrls.content(media.id)} alt={media.name} />}
      </div>
    </div>
  );
}

export interface Upload {
  key: string;
  name: string;
  /** a local preview of a picked image (object URL, memory only) */
  preview: string | null;
  status: "uploading" | "done" | "failed";
  media?: Media;
  /** text seen in a photo by the server (a name on a wristband?): the sender is warned */
  textSeen?: boolean;
  error?: string;
  file: File;
}

/** The composer's uploads: started when picked, sent as attachments when all are done. */
export function useUploads() {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const update = (key: string, patch: Partial<Upload>) => setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)));

  const start = useCallback((u: Upload) => {
    api.upload(u.file, u.name).then(
      (media) => {
        rememberMedia(media);
        update(u.key, { status: "done", media, textSeen: media.text_regions.length > 0 });
      },
      (e) => update(u.key, { status: "failed", error: e?.code ?? "network" }),
    );
  }, []);

  const add = useCallback(
    (files: FileList | File[]) => {
      const added: Upload[] = [...files].map((file, i) => ({
        key: `${Date.now()}-${i}-${file.name}`,
        name: file.name || "photo.jpg",
        preview: file.type.startsWith("image/") ? URL.createObjectURL(file) : null,
        status: "uploading",
        file,
      }));
      setUploads((list) => [...list, ...added]);
      added.forEach(start);
    },
    [start],
  );

  const remove = useCallback((key: string) => {
    setUploads((list) => {
      const gone = list.find((u) => u.key === key);
      if (gone?.preview) URL.revokeObjectURL(gone.preview);
      return list.filter((u) => u.key !== key);
    });
  }, []);

  const retry = useCallback(
    (key: string) => {
      setUploads((list) => list.map((u) => (u.key === key ? { ...u, status: "uploading", error: undefined } : u)));
      const u = uploads.find((x) => x.key === key);
      if (u) start(u);
    },
    [uploads, start],
  );

  /** The photo of upload `key` replaced by an edited one (black boxes, blur), uploaded anew. */
  const replace = useCallback(
    (key: string, file: File) => {
      const next = { key: `${key}-edited`, name: file.name, preview: URL.createObjectURL(file), status: "uploading" as const, file };
      setUploads((list) =>
        list.map((u) => {
          if (u.key !== key) return u;
          if (u.preview) URL.revokeObjectURL(u.preview);
          return next;
        }),
      );
      start(next);
    },
    [start],
  );

  const clear = useCallback(() => {
    setUploads((list) => {
      list.forEach((u) => u.preview && URL.revokeObjectURL(u.preview));
      return [];
    });
  }, []);

  return { uploads, add, remove, retry, replace, clear };
}

export function UploadTray({
  uploads,
  onRemove,
  onRetry,
  onReplace,
}: {
  uploads: Upload[];
  onRemove: (key: string) => void;
  onRetry: (key: string) => void;
  onReplace?: (key: string, file: File) => void;
}) {
  const { t } = useI18n();
  const [editing, setEditing] = useState<Upload | null>(null);
  if (uploads.length === 0) return null;
  return (
    <>
    {editing && onReplace && (
      <PhotoEditor
        file={editing.file}
        onClose={() => setEditing(null)}
        onDone={(file) => {
          onReplace(editing.key, file);
          setEditing(null);
        }}
      />
    )}
    <ul className="upload-tray" aria-label={t("attach.pending")}>
      {uploads.map((u) => (
        <li key={u.key} className={`upload ${u.status}${u.textSeen ? " text-seen" : ""}`}>
          {u.preview ? <img src={u.preview} alt="" /> : <Icon name="file" />}
          <span className="upload-name">{u.name}</span>
          <span className="upload-status" role={u.status === "failed" ? "alert" : undefined}>
            {u.status === "uploading" ? t("attach.uploading") : u.status === "failed" ? t(uploadProblem(u.error, u.file.type).key) : t("attach.ready")}
          </span>
          {u.textSeen && (
            <span className="upload-text-warning" role="alert">
              <Icon name="alert" /> {t("attach.textSeen")}
            </span>
          )}
          {u.status === "failed" && !uploadProblem(u.error, u.file.type).permanent && (
            <button type="button" className="retry" onClick={() => onRetry(u.key)}>
              {t("common.retry")}
            </button>
          )}
          {onReplace && u.preview && (
            <button type="button" className="retry" onClick={() => setEditing(u)}>
              {t("photoEdit.open")}
            </button>
          )}
          <button type="button" className="icon-button" aria-label={t("attach.remove", { name: u.name })} onClick={() => onRemove(u.key)}>
            <Icon name="close" />
          </button>
        </li>
      ))}
    </ul>
    </>
  );
}

