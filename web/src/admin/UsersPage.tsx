// Users: the organization's list with a filter, a form for a new user, and the edit form.

import { useCallback, useEffect, useMemo, useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { User, Uuid } from "../types";
import { call, type AdminUser, type Department, type Reply } from "./api";
import { ReplyError } from "./parts";
import { UserForm } from "./UserForm";
import { NewUserForm } from "./NewUserForm";
import { HoldBadge, SignInHoldsPanel, useSignInHolds } from "./SignInHolds";

export function UsersPage({ orgId, me }: { orgId: Uuid; me: User }) {
  const { t } = useI18n();
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [departments, setDepartments] = useState<Department[]>([]);
  const [filter, setFilter] = useState("");
  const [open, setOpen] = useState<Uuid | "new" | null>(null);
  const [failed, setFailed] = useState<Reply | null>(null);
  const holds = useSignInHolds(orgId);

  const load = useCallback(async () => {
    const depts = await call("GET", `/api/v1/orgs/${orgId}/departments`);
    if (depts.status === 200) setDepartments(depts.body);
    // Every page of users (500 per page), so large hospitals see everyone.
    const all: AdminUser[] = [];
    for (;;) {
      const page = await call("GET", `/api/v1/orgs/${orgId}/users?limit=500&offset=${all.length}`);
      if (page.status !== 200) return setFailed(page);
      all.push(...page.body);
      if (page.body.length < 500) break;
    }
    setUsers(all);
  }, [orgId]);
  useEffect(() => void load(), [load]);

  const shown = useMemo(() => {
    const q = filter.trim().toLowerCase();
    return (users ?? []).filter((u) => !q || [u.display_name, u.kana, u.romaji, u.login, u.staff_number ?? ""].some((v) => v.toLowerCase().includes(q)));
  }, [users, filter]);
  const deptName = (id: Uuid | null | undefined) => departments.find((d) => d.id === id)?.name ?? "";

  if (open === "new")
    return <NewUserForm orgId={orgId} me={me} departments={departments} onDone={() => { setOpen(null); void load(); }} />;
  if (open)
    return (
      <UserForm
        id={open}
        me={me}
        departments={departments}
        onBack={() => {
          setOpen(null);
          void load();
          void holds.reload();
        }}
      />
    );
  return (
    <section aria-labelledby="users-title">
      <div className="admin-head">
        <h2 id="users-title">{t("admin.tab.users")}</h2>
        <button type="button" className="primary small" onClick={() => setOpen("new")}>
          {t("admin.users.new")}
        </button>
      </div>
      <ReplyError reply={failed} />
      <SignInHoldsPanel holds={holds.holds} failed={holds.failed} onChanged={() => void holds.reload()} />
      <label className="field">
        <span>{t("admin.users.filter")}</span>
        <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </label>
      {users === null ? (
        <p role="status">{t("common.loading")}</p>
      ) : (
        <table className="admin-table admin-users">
          <thead>
            <tr>
              <th scope="col">{t("admin.field.display_name")}</th>
              <th scope="col">{t("admin.field.login")}</th>
              <th scope="col">{t("admin.field.profession")}</th>
              <th scope="col">{t("admin.field.department_id")}</th>
              <th scope="col">{t("admin.field.status")}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((u) => (
              <tr key={u.id}>
                <td>
                  <button type="button" className="link" onClick={() => setOpen(u.id)}>
                    {u.display_name}
                  </button>
                  <small>{u.kana}</small>
                </td>
                <td>{u.login}</td>
                <td>{t(`profession.${u.profession}` as MessageKey)}</td>
                <td>{deptName(u.department_id)}</td>
                <td>
                  <span className={`badge status-${u.status}`}>{t(`admin.status.${u.status}` as MessageKey)}</span>
                  <HoldBadge hold={holds.holds.find((h) => h.user_id === u.id)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
