// Departments: the organization's list, a new one, and renaming (with the version it was
// loaded at). Users and CSV rows name these departments.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { Uuid } from "../types";
import { call, type Reply } from "./api";
import { ReplyError } from "./parts";

interface DepartmentRow {
  id: Uuid;
  name: string;
  version: number;
}

export function DepartmentsPage({ orgId }: { orgId: Uuid }) {
  const { t } = useI18n();
  const [departments, setDepartments] = useState<DepartmentRow[] | null>(null);
  const [name, setName] = useState("");
  const [editing, setEditing] = useState<{ id: Uuid; name: string } | null>(null);
  const [reply, setReply] = useState<Reply | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    const r = await call("GET", `/api/v1/orgs/${orgId}/departments`);
    if (r.status === 200) setDepartments(r.body);
    else setReply(r);
  }, [orgId]);
  useEffect(() => void load(), [load]);

  async function create(e: FormEvent) {
    e.preventDefault();
    setReply(null);
    const r = await call("POST", `/api/v1/orgs/${orgId}/departments`, { name });
    if (r.status !== 201) return setReply(r);
    setName("");
    setNotice(t("admin.departments.created", { name: r.body.name }));
    await load();
  }

  async function rename(d: DepartmentRow, e: FormEvent) {
    e.preventDefault();
    if (!editing) return;
    setReply(null);
    const r = await call("PATCH", `/api/v1/departments/${d.id}`, { name: editing.name, version: d.version });
    if (r.status !== 200) {
      setReply(r);
      if (r.status === 409) await load();
      return;
    }
    setEditing(null);
    setNotice(t("admin.departments.renamed", { name: r.body.name }));
    await load();
  }

  return (
    <section aria-labelledby="departments-title">
      <h2 id="departments-title">{t("admin.tab.departments")}</h2>
      <form className="admin-card admin-inline" onSubmit={create}>
        <label className="field">
          <span>{t("admin.departments.new")}</span>
          <input name="department-name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
        </label>
        <button type="submit" className="primary small" disabled={!name.trim()}>
          {t("admin.departments.add")}
        </button>
      </form>
      <ReplyError reply={reply} />
      {notice && (
        <p className="admin-ok" role="status">
          {notice}
        </p>
      )}
      {departments && departments.length === 0 && <p>{t("admin.departments.none")}</p>}
      {departments && departments.length > 0 && (
        <table className="admin-table">
          <thead>
            <tr>
              <th scope="col">{t("admin.departments.name")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("admin.departments.rename")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {departments.map((d) => (
              <tr key={d.id}>
                {editing?.id === d.id ? (
                  <td colSpan={2}>
                    <form className="admin-inline" onSubmit={(e) => void rename(d, e)}>
                      <label className="field">
                        <span className="visually-hidden">{t("admin.departments.name")}</span>
                        <input name="rename" value={editing.name} onChange={(e) => setEditing({ id: d.id, name: e.target.value })} autoFocus />
                      </label>
                      <button type="submit" className="primary small" disabled={!editing.name.trim() || editing.name === d.name}>
                        {t("admin.save")}
                      </button>
                      <button type="button" className="secondary small" onClick={() => setEditing(null)}>
                        {t("common.cancel")}
                      </button>
                    </form>
                  </td>
                ) : (
                  <>
                    <td>{d.name}</td>
                    <td className="admin-actions">
                      <button
                        type="button"
                        className="secondary small"
                        aria-label={t("admin.departments.renameOne", { name: d.name })}
                        onClick={() => (setNotice(null), setEditing({ id: d.id, name: d.name }))}
                      >
                        {t("admin.departments.rename")}
                      </button>
                    </td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
