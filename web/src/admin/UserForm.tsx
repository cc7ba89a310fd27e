// One user's every field, saved with the version it was loaded at. A save succeeds whole or
// says why; when someone else saved first, both versions are shown side by side.

import { useEffect, useState, type FormEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { User, Uuid } from "../types";
import { call, STATUSES, type AdminUser, type Department, type Reply } from "./api";
import { Picker, RoleChecks } from "./userFields";
import { TEXT, draftOf, draftRefusal, patchOf, type Draft } from "./userDraft";
import { BothVersions, ReplyError, type VersionRow } from "./parts";
import { Confirm } from "./Confirm";

/** A destructive step waiting for the administrator's yes. */
interface Pending {
  question: MessageKey;
  run: () => Promise<void>;
}

export function UserForm({ id, me, departments, onBack }: { id: Uuid; me: User; departments: Department[]; onBack: () => void }) {
  const { t } = useI18n();
  const [user, setUser] = useState<AdminUser | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [reply, setReply] = useState<Reply | null>(null);
  const [saved, setSaved] = useState(false);
  const [conflict, setConflict] = useState<AdminUser | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [notice, setNotice] = useState<MessageKey | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);

  useEffect(() => {
    void call("GET", `/api/v1/users/${id}`).then((r) => {
      if (r.status !== 200) return setReply(r);
      setUser(r.body);
      setDraft(draftOf(r.body));
    });
  }, [id]);

  if (!user || !draft) return <ReplyError reply={reply} />;
  const base = draftOf(user);
  const changed = patchOf(draft, base);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    setSaved(false);
    setDraft({ ...draft, [k]: v });
  };

  async function save(against: AdminUser, body: Record<string, unknown>) {
    setReply(null);
    setNotice(null);
    const r = await call("PATCH", `/api/v1/users/${id}`, { ...body, version: against.version });
    if (r.status === 200) {
      setUser(r.body);
      setDraft(draftOf(r.body));
      setConflict(null);
      setSaved(true);
    } else if (r.status === 409 && r.body?.code === "version_conflict") {
      setConflict(r.body.current);
    } else {
      setReply(r);
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const refused = draftRefusal(draft!);
    if (refused) return setReply(refused);
    if (!Object.keys(changed).length) return;
    if (changed.status === "retired") return setPending({ question: "admin.confirm.retire", run: () => save(user!, changed) });
    await save(user!, changed);
  }

  /** Asks before a reset: the user's sessions end. */
  const confirmed = (question: MessageKey, path: string, method: string, done: MessageKey) => () =>
    setPending({ question, run: () => action(path, method, done) });

  async function action(path: string, method: string, done: MessageKey) {
    setReply(null);
    const r = await call(method, `/api/v1/users/${id}/${path}`, method === "POST" ? {} : undefined);
    if (r.status >= 300) return setReply(r);
    setSecret(r.body?.one_time_password ?? null);
    if (path === "second-factor") setUser({ ...user!, second_factor_enrolled: false });
    setNotice(done);
  }

  const label = (k: string) => t(`admin.field.${k}` as MessageKey);
  const show = (d: Draft, k: keyof Draft): string => {
    const v = d[k];
    if (k === "department_id") return departments.find((x) => x.id === v)?.name ?? "";
    if (k === "profession") return t(`profession.${v}` as MessageKey);
    if (k === "status") return t(`admin.status.${v}` as MessageKey);
    if (k === "second_factor_required") return v ? t("admin.yes") : t("admin.no");
    if (k === "affiliations") return d.affiliations.map((a) => [a.org_id, a.department, a.title].filter(Boolean).join(" / ")).join("; ");
    if (Array.isArray(v)) return (v as string[]).join(", ");
    return String(v);
  };
  const versionRows = (theirs: AdminUser): VersionRow[] =>
    (Object.keys(draft) as (keyof Draft)[]).map((k) => ({ label: label(k), mine: show(draft, k), theirs: show(draftOf(theirs), k) }));

  return (
    <form className="admin-form" onSubmit={submit} aria-labelledby="user-title">
      <div className="admin-head">
        <button type="button" className="secondary small" onClick={onBack}>
          {t("common.back")}
        </button>
        <h2 id="user-title">{user.display_name}</h2>
      </div>
      {conflict && (
        <BothVersions
          rows={versionRows(conflict)}
          onKeepMine={() => void save(conflict, changed)}
          onUseTheirs={() => {
            setUser(conflict);
            setDraft(draftOf(conflict));
            setConflict(null);
          }}
        />
      )}
      <div className="admin-grid">
        {TEXT.map((k) => (
          <label className="field" key={k}>
            <span>{label(k)}</span>
            <input name={k} value={draft[k]} onChange={(e) => set(k, e.target.value)} autoComplete="off" spellCheck={false} />
          </label>
        ))}
        <Picker kind="profession" value={draft.profession} onChange={(v) => set("profession", v)} />
        <Picker kind="department" departments={departments} value={draft.department_id} onChange={(v) => set("department_id", v)} />
        <label className="field">
          <span>{label("status")}</span>
          <select name="status" value={draft.status} onChange={(e) => set("status", e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`admin.status.${s}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <fieldset className="admin-checks">
        <legend>{label("roles")}</legend>
        <RoleChecks me={me} roles={draft.roles} onChange={(roles) => set("roles", roles)} />
        <label>
          <input
            type="checkbox"
            name="second_factor_required"
            checked={draft.second_factor_required}
            onChange={(e) => set("second_factor_required", e.target.checked)}
          />
          {label("second_factor_required")}
        </label>
        <p>
          {t("admin.users.secondFactorEnrolled")}: {user.second_factor_enrolled ? t("admin.yes") : t("admin.no")}
        </p>
      </fieldset>
      <fieldset className="admin-affiliations">
        <legend>{label("affiliations")}</legend>
        {draft.affiliations.map((a, i) => (
          <div className="admin-row" key={i}>
            {(["org_id", "department", "title"] as const).map((k) => (
              <label className="field" key={k}>
                <span>{t(`admin.affiliation.${k}` as MessageKey)}</span>
                <input
                  name={`affiliation-${i}-${k}`}
                  value={a[k]}
                  onChange={(e) => set("affiliations", draft.affiliations.map((b, j) => (j === i ? { ...b, [k]: e.target.value } : b)))}
                />
              </label>
            ))}
            <button type="button" className="secondary small" onClick={() => set("affiliations", draft.affiliations.filter((_, j) => j !== i))}>
              {t("admin.remove")}
            </button>
          </div>
        ))}
        <button type="button" className="secondary small" onClick={() => set("affiliations", [...draft.affiliations, { org_id: "", department: "", title: "" }])}>
          {t("admin.affiliation.add")}
        </button>
      </fieldset>
      <ReplyError reply={reply} />
      {saved && (
        <p className="admin-ok" role="status">
          {t("admin.saved", { version: user.version })}
        </p>
      )}
      <div className="admin-actions">
        <button type="submit" className="primary" disabled={Object.keys(changed).length === 0}>
          {t("admin.save")}
        </button>
        <button type="button" className="secondary" onClick={confirmed("admin.confirm.resetPassword", "password-reset", "POST", "admin.users.passwordReset")}>
          {t("admin.users.resetPassword")}
        </button>
        <button type="button" className="secondary" onClick={confirmed("admin.confirm.resetPasscode", "passcode", "DELETE", "admin.users.passcodeReset")}>
          {t("admin.users.resetPasscode")}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!user.second_factor_enrolled}
          onClick={confirmed("admin.confirm.resetSecondFactor", "second-factor", "DELETE", "admin.users.secondFactorReset")}
        >
          {t("admin.users.resetSecondFactor")}
        </button>
      </div>
      {pending && (
        <Confirm
          question={t(pending.question, { name: user.display_name })}
          onYes={() => {
            const run = pending.run;
            setPending(null);
            void run();
          }}
          onNo={() => setPending(null)}
        />
      )}
      {notice && (
        <p className="admin-ok" role="status">
          {t(notice)}
          {secret && (
            <>
              {" "}
              <code className="admin-secret">{secret}</code>
            </>
          )}
        </p>
      )}
    </form>
  );
}
