// The form for a new user: the same fields as the edit form's first part (contact details,
// staff number, roles) and a one-time password.

import { useState, type FormEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { User, Uuid } from "../types";
import { call, type Department, type Reply } from "./api";
import { Picker, RoleChecks } from "./userFields";
import { ReplyError } from "./parts";
import { draftRefusal, emptyNewUser, newUserBody, type NewUserDraft } from "./userDraft";

const TEXT_FIELDS = ["login", "display_name", "kana", "email", "phone", "staff_number"] as const;
const INPUT_TYPE: Partial<Record<(typeof TEXT_FIELDS)[number], string>> = { email: "email", phone: "tel" };

export function NewUserForm({ orgId, me, departments, onDone }: { orgId: Uuid; me: User; departments: Department[]; onDone: () => void }) {
  const { t } = useI18n();
  const [form, setForm] = useState<NewUserDraft>(emptyNewUser);
  const [reply, setReply] = useState<Reply | null>(null);
  const set = <K extends keyof NewUserDraft>(k: K, v: NewUserDraft[K]) => setForm({ ...form, [k]: v });

  async function submit(e: FormEvent) {
    e.preventDefault();
    const refused = draftRefusal(form);
    if (refused) return setReply(refused);
    const r = await call("POST", `/api/v1/orgs/${orgId}/users`, newUserBody(form));
    if (r.status === 201) return onDone();
    setReply(r);
  }
  return (
    <form className="admin-form" onSubmit={submit}>
      <h2>{t("admin.users.new")}</h2>
      <div className="admin-grid">
        {TEXT_FIELDS.map((k) => (
          <label className="field" key={k}>
            <span>{t(`admin.field.${k}` as MessageKey)}</span>
            <input name={k} type={INPUT_TYPE[k] ?? "text"} value={form[k]} onChange={(e) => set(k, e.target.value)} autoComplete="off" spellCheck={false} />
          </label>
        ))}
        <Picker kind="profession" value={form.profession} onChange={(v) => set("profession", v)} />
        <Picker kind="department" departments={departments} value={form.department_id} onChange={(v) => set("department_id", v)} />
      </div>
      <fieldset className="admin-checks">
        <legend>{t("admin.field.roles")}</legend>
        <RoleChecks me={me} roles={form.roles} onChange={(roles) => set("roles", roles)} />
      </fieldset>
      <label className="field">
        <span>{t("admin.users.oneTimePassword")}</span>
        <input name="password" type="text" autoComplete="off" value={form.password} onChange={(e) => set("password", e.target.value)} />
        <small>{t("password.hint")}</small>
      </label>
      <ReplyError reply={reply} />
      <div className="admin-actions">
        <button type="submit" className="primary">
          {t("admin.users.create")}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
