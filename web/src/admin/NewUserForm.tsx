// The form for a new user: the same fields as the edit form's first part (contact details,
// staff number, roles) and a one-time password.

import { useState, type FormEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { User, Uuid } from "../types";
import { call, PROFESSIONS, type Department, type Reply } from "./api";
import { ReplyError } from "./parts";
import { emptyNewUser, newUserBody, type NewUserDraft } from "./userDraft";

const TEXT_FIELDS = ["login", "display_name", "kana", "email", "phone", "staff_number"] as const;
const INPUT_TYPE: Partial<Record<(typeof TEXT_FIELDS)[number], string>> = { email: "email", phone: "tel" };

export function NewUserForm({ orgId, me, departments, onDone }: { orgId: Uuid; me: User; departments: Department[]; onDone: () => void }) {
  const { t } = useI18n();
  const [form, setForm] = useState<NewUserDraft>(emptyNewUser);
  const [reply, setReply] = useState<Reply | null>(null);
  const set = <K extends keyof NewUserDraft>(k: K, v: NewUserDraft[K]) => setForm({ ...form, [k]: v });
  const roles = ["org_admin", ...(me.roles.includes("server_admin") ? ["server_admin"] : [])];

  async function submit(e: FormEvent) {
    e.preventDefault();
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
        <label className="field">
          <span>{t("admin.field.profession")}</span>
          <select name="profession" value={form.profession} onChange={(e) => set("profession", e.target.value)}>
            {PROFESSIONS.map((p) => (
              <option key={p} value={p}>
                {t(`profession.${p}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t("admin.field.department_id")}</span>
          <select name="department_id" value={form.department_id} onChange={(e) => set("department_id", e.target.value)}>
            <option value="">{t("admin.none")}</option>
            {departments.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <fieldset className="admin-checks">
        <legend>{t("admin.field.roles")}</legend>
        {roles.map((role) => (
          <label key={role}>
            <input
              type="checkbox"
              name={`role-${role}`}
              checked={form.roles.includes(role)}
              onChange={(e) => set("roles", e.target.checked ? [...form.roles, role] : form.roles.filter((r) => r !== role))}
            />
            {t(`admin.role.${role}` as MessageKey)}
          </label>
        ))}
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
