// The organization's policy: retention (media, messages), patient-ID digits, locks, second
// factor, uploads.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { mediaKindValues, type components } from "../api/schema";
import type { Organization as Org, Policy, Uuid } from "../types";
import { call, type Reply } from "./api";
import { BothVersions, ReplyError } from "./parts";

type Kind = components["schemas"]["MediaKind"];
/** Whether a policy allows uploads of `kind` (every kind the document leaves out is allowed). */
const allows = (p: Policy, kind: Kind) => p.allowed_file_kinds?.[kind] ?? true;
const NUMBERS = [
  ["retention_days", 1, 30],
  ["patient_id_digits", 0, 8],
  ["idle_lock_minutes", 1, 1440],
  ["max_upload_mb", 1, 4096],
] as const;
const FLAGS = ["passcode_required", "second_factor_required"] as const;
/** Days messages are kept; empty keeps them (the server's null). */
const MESSAGE_DAYS = { min: 1, max: 3650 } as const;

export function PolicyPage({ orgId }: { orgId: Uuid }) {
  const { t } = useI18n();
  const [org, setOrg] = useState<Org | null>(null);
  const [draft, setDraft] = useState<Policy | null>(null);
  const [reply, setReply] = useState<Reply | null>(null);
  const [conflict, setConflict] = useState<Org | null>(null);
  const [saved, setSaved] = useState(false);

  const load = useCallback(async () => {
    const r = await call("GET", `/api/v1/orgs/${orgId}`);
    if (r.status !== 200) return setReply(r);
    setOrg(r.body);
    setDraft(r.body.policy);
  }, [orgId]);
  useEffect(() => void load(), [load]);
  if (!org || !draft) return <ReplyError reply={reply} />;

  async function save(version: number) {
    setReply(null);
    const r = await call("PATCH", `/api/v1/orgs/${orgId}`, { version, policy: draft });
    if (r.status === 200) {
      setOrg(r.body);
      setDraft(r.body.policy);
      setConflict(null);
      setSaved(true);
    } else if (r.status === 409 && r.body?.code === "version_conflict") setConflict(r.body.current);
    else setReply(r);
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save(org.version);
  };
  const set = (p: Partial<Policy>) => {
    setSaved(false);
    setDraft({ ...draft, ...p });
  };
  const label = (k: string) => t(`admin.policy.${k}` as MessageKey);
  const show = (p: Policy, k: string): string => {
    if (k === "allowed_file_kinds") return mediaKindValues.filter((x) => allows(p, x)).map((x) => label(`kind.${x}`)).join(", ");
    const v = p[k as keyof Policy];
    if (v === null || v === undefined) return "—";
    return typeof v === "boolean" ? (v ? t("admin.yes") : t("admin.no")) : String(v);
  };
  const keys = [...NUMBERS.map((n) => n[0]), "message_retention_days", ...FLAGS, "allowed_file_kinds"];

  return (
    <form className="admin-form" onSubmit={submit} aria-labelledby="policy-title">
      <h2 id="policy-title">{t("admin.tab.policy")}</h2>
      {conflict && (
        <BothVersions
          rows={keys.map((k) => ({ label: label(k), mine: show(draft, k), theirs: show(conflict.policy, k) }))}
          onKeepMine={() => void save(conflict.version)}
          onUseTheirs={() => {
            setOrg(conflict);
            setDraft(conflict.policy);
            setConflict(null);
          }}
        />
      )}
      <div className="admin-grid">
        {NUMBERS.map(([k, min, max]) => (
          <label className="field" key={k}>
            <span>{label(k)}</span>
            <input type="number" name={k} min={min} max={max} value={draft[k]} onChange={(e) => set({ [k]: Number(e.target.value) })} />
            <small>
              {min}–{max}
            </small>
          </label>
        ))}
        <label className="field">
          <span>{label("message_retention_days")}</span>
          <input
            type="number"
            name="message_retention_days"
            min={MESSAGE_DAYS.min}
            max={MESSAGE_DAYS.max}
            value={draft.message_retention_days ?? ""}
            onChange={(e) => set({ message_retention_days: e.target.value === "" ? null : Number(e.target.value) })}
          />
          <small>
            {MESSAGE_DAYS.min}–{MESSAGE_DAYS.max}
          </small>
        </label>
      </div>
      <fieldset className="admin-checks">
        <legend>{t("admin.policy.security")}</legend>
        {FLAGS.map((k) => (
          <label key={k}>
            <input type="checkbox" name={k} checked={draft[k]} onChange={(e) => set({ [k]: e.target.checked })} />
            {label(k)}
          </label>
        ))}
      </fieldset>
      <fieldset className="admin-checks">
        <legend>{label("allowed_file_kinds")}</legend>
        {mediaKindValues.map((k) => (
          <label key={k}>
            <input
              type="checkbox"
              name={`kind-${k}`}
              checked={allows(draft, k)}
              onChange={(e) => set({ allowed_file_kinds: { ...draft.allowed_file_kinds, [k]: e.target.checked } })}
            />
            {label(`kind.${k}`)}
          </label>
        ))}
      </fieldset>
      <ReplyError reply={reply} />
      {saved && (
        <p className="admin-ok" role="status">
          {t("admin.saved", { version: org.version })}
        </p>
      )}
      <div className="admin-actions">
        <button type="submit" className="primary">
          {t("admin.save")}
        </button>
      </div>
    </form>
  );
}
