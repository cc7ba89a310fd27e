// The organization's identity provider (OpenID Connect): issuer, client, claim mapping, who
// may come in, which amr/acr count as the second factor, enforcement and break-glass accounts.
// The client secret is write-only: the server never sends it back.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { Uuid } from "../types";
import { call, type AdminUser, type Reply } from "./api";
import { ReplyError } from "./parts";

interface Settings {
  issuer: string;
  client_id: string;
  login_claim: "preferred_username" | "email";
  name_claim: string;
  kana_claim?: string | null;
  department_claim?: string | null;
  link_claim?: string | null;
  unknown_users: "apply" | "refuse";
  trusted_amr: string[];
  trusted_acr: string[];
  enforced: boolean;
  break_glass: Uuid[];
}

interface View {
  settings: Settings;
  client_secret_set: boolean;
  version: number;
  redirect_path: string;
  backchannel_logout_path: string;
}

const EMPTY: Settings = {
  issuer: "",
  client_id: "",
  login_claim: "preferred_username",
  name_claim: "name",
  kana_claim: "",
  department_claim: "",
  link_claim: "",
  unknown_users: "apply",
  trusted_amr: ["mfa"],
  trusted_acr: [],
  enforced: false,
  break_glass: [],
};

const list = (text: string) =>
  text
    .split(/[,\s、]+/)
    .map((v) => v.trim())
    .filter(Boolean);
const optional = (v: string | null | undefined) => (v && v.trim() ? v.trim() : null);

export function SsoPage({ orgId }: { orgId: Uuid }) {
  const { t } = useI18n();
  const [view, setView] = useState<View | null>(null);
  const [draft, setDraft] = useState<Settings>(EMPTY);
  const [secret, setSecret] = useState("");
  const [admins, setAdmins] = useState<AdminUser[]>([]);
  const [reply, setReply] = useState<Reply | null>(null);
  const [saved, setSaved] = useState(false);
  const [loaded, setLoaded] = useState(false);

  const load = useCallback(async () => {
    const [r, users] = await Promise.all([call("GET", `/api/v1/orgs/${orgId}/sso`), call("GET", `/api/v1/orgs/${orgId}/users?limit=500`)]);
    if (r.status === 200) {
      setView(r.body);
      setDraft({ ...EMPTY, ...r.body.settings });
    } else if (r.status !== 404) setReply(r);
    if (users.status === 200 && Array.isArray(users.body)) {
      setAdmins((users.body as AdminUser[]).filter((u) => u.roles.some((role) => role === "org_admin" || role === "server_admin")));
    }
    setLoaded(true);
  }, [orgId]);
  useEffect(() => void load(), [load]);
  if (!loaded) return <ReplyError reply={reply} />;

  const set = (p: Partial<Settings>) => {
    setSaved(false);
    setDraft({ ...draft, ...p });
  };
  async function submit(e: FormEvent) {
    e.preventDefault();
    setReply(null);
    const settings = {
      ...draft,
      kana_claim: optional(draft.kana_claim),
      department_claim: optional(draft.department_claim),
      link_claim: optional(draft.link_claim),
    };
    const body: Record<string, unknown> = { settings };
    if (secret) body.client_secret = secret;
    if (view) body.version = view.version;
    const r = await call("PUT", `/api/v1/orgs/${orgId}/sso`, body);
    if (r.status === 200) {
      setView(r.body);
      setDraft({ ...EMPTY, ...r.body.settings });
      setSecret("");
      setSaved(true);
    } else setReply(r);
  }
  async function remove() {
    const r = await call("DELETE", `/api/v1/orgs/${orgId}/sso`);
    if (r.status === 204) {
      setView(null);
      setDraft(EMPTY);
    } else setReply(r);
  }
  const label = (k: string) => t(`admin.sso.${k}` as MessageKey);
  const origin = window.location.origin;
  const text = (k: "issuer" | "client_id" | "name_claim" | "kana_claim" | "department_claim" | "link_claim", name: string) => (
    <label className="field" key={k}>
      <span>{label(name)}</span>
      <input name={k} autoCapitalize="none" spellCheck={false} value={draft[k] ?? ""} onChange={(e) => set({ [k]: e.target.value })} />
    </label>
  );

  return (
    <form className="admin-form" onSubmit={submit} aria-labelledby="sso-title">
      <h2 id="sso-title">{t("admin.tab.sso")}</h2>
      <p>{t("admin.sso.intro")}</p>
      {!view && <p className="admin-note">{t("admin.sso.none")}</p>}
      <dl className="admin-facts">
        <dt>{label("redirect")}</dt>
        <dd>
          <code>{origin + (view?.redirect_path ?? "/api/v1/auth/sso/callback")}</code>
        </dd>
        <dt>{label("logout")}</dt>
        <dd>
          <code>{origin + (view?.backchannel_logout_path ?? `/api/v1/auth/sso/${orgId}/backchannel-logout`)}</code>
        </dd>
      </dl>
      <div className="admin-grid">
        {text("issuer", "issuer")}
        {text("client_id", "clientId")}
        <label className="field">
          <span>{label("clientSecret")}</span>
          <input name="client_secret" type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} />
          {view?.client_secret_set && <small>{label("secretKept")}</small>}
        </label>
      </div>
      <fieldset className="admin-checks">
        <legend>{label("mapping")}</legend>
        <label className="field">
          <span>{label("loginClaim")}</span>
          <select name="login_claim" value={draft.login_claim} onChange={(e) => set({ login_claim: e.target.value as Settings["login_claim"] })}>
            <option value="preferred_username">preferred_username</option>
            <option value="email">email</option>
          </select>
        </label>
        {text("name_claim", "nameClaim")}
        {text("kana_claim", "kanaClaim")}
        {text("department_claim", "departmentClaim")}
        {text("link_claim", "linkClaim")}
      </fieldset>
      <fieldset className="admin-checks">
        <legend>{label("unknown")}</legend>
        {(["apply", "refuse"] as const).map((v) => (
          <label key={v}>
            <input type="radio" name="unknown_users" checked={draft.unknown_users === v} onChange={() => set({ unknown_users: v })} />
            {label(`unknown.${v}`)}
          </label>
        ))}
      </fieldset>
      <div className="admin-grid">
        <label className="field">
          <span>{label("amr")}</span>
          <input name="trusted_amr" value={draft.trusted_amr.join(", ")} onChange={(e) => set({ trusted_amr: list(e.target.value) })} />
          <small>{label("listHint")}</small>
        </label>
        <label className="field">
          <span>{label("acr")}</span>
          <input name="trusted_acr" value={draft.trusted_acr.join(", ")} onChange={(e) => set({ trusted_acr: list(e.target.value) })} />
        </label>
      </div>
      <fieldset className="admin-checks">
        <legend>{label("breakGlass")}</legend>
        <small>{label("breakGlassHint")}</small>
        {admins.map((u) => (
          <label key={u.id}>
            <input
              type="checkbox"
              name={`break-glass-${u.login}`}
              checked={draft.break_glass.includes(u.id)}
              onChange={(e) => set({ break_glass: e.target.checked ? [...draft.break_glass, u.id] : draft.break_glass.filter((id) => id !== u.id) })}
            />
            {u.display_name} ({u.login})
          </label>
        ))}
        <label>
          <input type="checkbox" name="enforced" checked={draft.enforced} onChange={(e) => set({ enforced: e.target.checked })} />
          {label("enforced")}
        </label>
      </fieldset>
      <ReplyError reply={reply} />
      {saved && view && (
        <p className="admin-ok" role="status">
          {t("admin.saved", { version: view.version })}
        </p>
      )}
      <div className="admin-actions">
        {view && (
          <button type="button" onClick={() => void remove()}>
            {label("remove")}
          </button>
        )}
        <button type="submit" className="primary">
          {t("admin.save")}
        </button>
      </div>
    </form>
  );
}
