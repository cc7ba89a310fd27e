// Per-device redaction rules: the rectangles blanked in every frame of images from a device
// (Manufacturer, Model, Rows × Columns, optionally Modality), at ingest on the server and on
// the gateways. Added, edited at their version, removed.

import { useState, type FormEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { Uuid } from "../types";
import { call } from "./api";
import { CardMessages, Listing, RemoveButton, useList } from "./cardParts";
import { parseRects, rectsText, type Rect } from "./redactionRects";

interface Rule {
  id: Uuid;
  manufacturer: string;
  model: string;
  rows: number;
  columns: number;
  modality: string | null;
  rectangles: Rect[];
  version: number;
}

const EMPTY = { manufacturer: "", model: "", rows: "", columns: "", modality: "", rectangles: "" };
type Draft = typeof EMPTY;

function draftOf(rule: Rule): Draft {
  return {
    manufacturer: rule.manufacturer,
    model: rule.model,
    rows: String(rule.rows),
    columns: String(rule.columns),
    modality: rule.modality ?? "",
    rectangles: rectsText(rule.rectangles),
  };
}

export function RedactionRules({ orgId }: { orgId: Uuid }) {
  const { t } = useI18n();
  const base = `/api/v1/orgs/${orgId}/redaction-rules`;
  const { items: rules, load, reply, setReply } = useList<Rule>(base);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [editing, setEditing] = useState<Rule | null>(null);
  const [removing, setRemoving] = useState<Uuid | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setReply(null);
    setProblem(null);
    setNotice(null);
    const parsed = parseRects(draft.rectangles);
    if ("badLine" in parsed) return setProblem(t("admin.redaction.badLine", { n: parsed.badLine }));
    const body = {
      manufacturer: draft.manufacturer,
      model: draft.model,
      rows: Number(draft.rows),
      columns: Number(draft.columns),
      modality: draft.modality.trim() || null,
      rectangles: parsed.rects,
    };
    const r = editing
      ? await call("PUT", `${base}/${editing.id}`, body, "application/json", { "if-match": `"${editing.version}"` })
      : await call("POST", base, body);
    if (r.status !== 200 && r.status !== 201) return setReply(r);
    setNotice(t(editing ? "admin.redaction.saved" : "admin.redaction.added", { device: `${r.body.manufacturer} ${r.body.model}` }));
    setEditing(null);
    setDraft(EMPTY);
    await load();
  }

  async function remove(rule: Rule) {
    setReply(null);
    const r = await call("DELETE", `${base}/${rule.id}`);
    setRemoving(null);
    if (r.status !== 204) return setReply(r);
    await load();
  }

  const field = (key: keyof Draft, label: string, extra: { inputMode?: "numeric"; placeholder?: string } = {}) => (
    <label className="field">
      <span>{label}</span>
      <input name={`rule-${key}`} value={draft[key]} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} autoComplete="off" spellCheck={false} {...extra} />
    </label>
  );

  return (
    <div className="admin-card">
      <h3>{t("admin.redaction.title")}</h3>
      <p>{t("admin.redaction.intro")}</p>
      <form className="admin-grid" onSubmit={submit} aria-label={t(editing ? "admin.redaction.edit" : "admin.redaction.add")}>
        {field("manufacturer", t("admin.redaction.manufacturer"))}
        {field("model", t("admin.redaction.model"))}
        {field("rows", t("admin.redaction.rows"), { inputMode: "numeric" })}
        {field("columns", t("admin.redaction.columns"), { inputMode: "numeric" })}
        {field("modality", t("admin.redaction.modality"), { placeholder: "US" })}
        <label className="field">
          <span>{t("admin.redaction.rectangles")}</span>
          <textarea name="rule-rectangles" rows={3} value={draft.rectangles} onChange={(e) => setDraft({ ...draft, rectangles: e.target.value })} placeholder="0, 0, 640, 40" spellCheck={false} />
          <small>{t("admin.redaction.rectanglesHint")}</small>
        </label>
        <div className="admin-actions">
          <button type="submit" className="primary small" disabled={!draft.manufacturer.trim() || !draft.model.trim()}>
            {t(editing ? "admin.save" : "admin.redaction.add")}
          </button>
          {editing && (
            <button type="button" className="secondary small" onClick={() => (setEditing(null), setDraft(EMPTY))}>
              {t("common.cancel")}
            </button>
          )}
        </div>
      </form>
      <CardMessages problem={problem} reply={reply} notice={notice} />
      <Listing
        items={rules}
        empty={t("admin.redaction.none")}
        columns={[t("admin.redaction.device"), t("admin.redaction.rectangles")]}
        row={(rule) => (
          <tr key={rule.id}>
            <td>
              <strong>
                {rule.manufacturer} {rule.model}
              </strong>
              <small>{[`${rule.columns} × ${rule.rows}`, rule.modality].filter(Boolean).join(" · ")}</small>
            </td>
            <td>{t("admin.redaction.count", { n: rule.rectangles.length })}</td>
            <td className="admin-actions">
              {removing !== rule.id && (
                <button type="button" className="secondary small" onClick={() => (setEditing(rule), setDraft(draftOf(rule)))}>
                  {t("admin.redaction.editButton")}
                </button>
              )}
              <RemoveButton
                confirming={removing === rule.id}
                confirmLabel={t("admin.redaction.confirmRemove")}
                onAsk={() => setRemoving(rule.id)}
                onCancel={() => setRemoving(null)}
                onConfirm={() => void remove(rule)}
              />
            </td>
          </tr>
        )}
      />
    </div>
  );
}
