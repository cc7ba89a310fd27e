// Fields the new-user and the edit form share: profession, department and role choices.

import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { User } from "../types";
import { PROFESSIONS, type Department } from "./api";

export function ProfessionField({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const { t } = useI18n();
  return (
    <label className="field">
      <span>{t("admin.field.profession")}</span>
      <select name="profession" value={value} onChange={(e) => onChange(e.target.value)}>
        {PROFESSIONS.map((p) => (
          <option key={p} value={p}>
            {t(`profession.${p}` as MessageKey)}
          </option>
        ))}
      </select>
    </label>
  );
}

export function DepartmentField({ departments, value, onChange }: { departments: Department[]; value: string; onChange: (v: string) => void }) {
  const { t } = useI18n();
  return (
    <label className="field">
      <span>{t("admin.field.department_id")}</span>
      <select name="department_id" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{t("admin.none")}</option>
        {departments.map((d) => (
          <option key={d.id} value={d.id}>
            {d.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A checkbox per role the signed-in administrator may grant (server_admin only by one). */
export function RoleChecks({ me, roles, onChange }: { me: User; roles: string[]; onChange: (roles: string[]) => void }) {
  const { t } = useI18n();
  return (
    <>
      {["org_admin", ...(me.roles.includes("server_admin") ? ["server_admin"] : [])].map((role) => (
        <label key={role}>
          <input
            type="checkbox"
            name={`role-${role}`}
            checked={roles.includes(role)}
            onChange={(e) => onChange((e.target.checked ? [...roles, role] : roles.filter((r) => r !== role)).sort())}
          />
          {t(`admin.role.${role}` as MessageKey)}
        </label>
      ))}
    </>
  );
}
