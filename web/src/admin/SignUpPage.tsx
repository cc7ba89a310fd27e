// The public sign-up page of an invite link: staff apply, then wait for an administrator.

import { draftRefusal } from "./userDraft";
import { useEffect, useState, type FormEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { AuthLayout } from "../screens/AuthLayout";
import { call, type Department, type Reply } from "./api";
import { ReplyError } from "./parts";
import { Picker } from "./userFields";
import "./admin.css";

const EMPTY = { display_name: "", kana: "", profession: "", department_id: "", email: "", phone: "", login: "", password: "", confirm: "" };

export default function SignUpPage({ token }: { token: string }) {
  const { t } = useI18n();
  const [form, setForm] = useState<{ organization: string; departments: Department[]; professions: string[] } | null>(null);
  const [missing, setMissing] = useState<Reply | null>(null);
  const [values, setValues] = useState(EMPTY);
  const [reply, setReply] = useState<Reply | null>(null);
  const [done, setDone] = useState(false);
  useEffect(() => {
    void call("GET", `/api/v1/signup/${token}`).then((r) => (r.status === 200 ? setForm(r.body) : setMissing(r)));
  }, [token]);

  if (missing)
    return (
      <AuthLayout title={t("signup.title")}>
        <p className="admin-error" role="alert">
          {missing.body?.code === "invite_expired"
            ? t("signup.expired")
            : missing.body?.code === "invite_revoked"
              ? t("signup.revoked")
              : missing.status === 404
                ? t("signup.badLink")
                : t("common.error")}
        </p>
      </AuthLayout>
    );
  if (!form) return null;
  if (done)
    return (
      <AuthLayout title={t("signup.title")}>
        <p role="status">{t("signup.sent")}</p>
        <a className="button primary" href="/">
          {t("login.title")}
        </a>
      </AuthLayout>
    );

  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => setValues({ ...values, [k]: e.target.value });
  const mismatch = values.confirm !== "" && values.confirm !== values.password;
  async function submit(e: FormEvent) {
    e.preventDefault();
    const refused = draftRefusal(values);
    if (refused) return setReply(refused);
    const { confirm: _confirm, ...body } = values;
    const r = await call("POST", `/api/v1/signup/${token}`, {
      ...body,
      department_id: body.department_id || null,
      email: body.email.trim() || null,
      phone: body.phone.trim() || null,
    });
    if (r.status === 201) setDone(true);
    else setReply(r);
  }
  const text = (k: keyof typeof EMPTY, type = "text", auto = "off") => (
    <label className="field" key={k}>
      <span>{t(`signup.${k}` as MessageKey)}</span>
      <input name={k} type={type} autoComplete={auto} value={values[k]} onChange={set(k)} />
    </label>
  );
  return (
    <AuthLayout title={t("signup.title")}>
      <p>{t("signup.intro", { org: form.organization })}</p>
      <form className="form" onSubmit={submit} noValidate>
        {text("display_name", "text", "name")}
        {text("kana")}
        <Picker kind="profession" professions={form.professions} value={values.profession} onChange={(v) => setValues({ ...values, profession: v })} required />
        <Picker kind="department" departments={form.departments} value={values.department_id} onChange={(v) => setValues({ ...values, department_id: v })} />
        {text("email", "email", "email")}
        {text("phone", "tel", "tel")}
        {text("login", "text", "username")}
        {text("password", "password", "new-password")}
        {text("confirm", "password", "new-password")}
        {mismatch && <p className="admin-error">{t("password.mismatch")}</p>}
        <ReplyError reply={reply} />
        <button className="primary" type="submit" disabled={mismatch || !values.login || !values.password || !values.display_name || !values.profession}>
          {t("signup.submit")}
        </button>
      </form>
    </AuthLayout>
  );
}
