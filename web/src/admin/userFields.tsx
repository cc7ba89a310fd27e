// Fields the new-user and the edit form share: profession, department and role choices (the
// profession and department picker also serves the sign-up page).

import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { User } from "../types";
import { PROFESSIONS, type Department } from "./api";

type PickerProps = { value: string; onChange: (value: string) => void; required?: boolean } & (
  | { kind: "profession"; /** the choices (default: every profession) */ professions?: readonly string[] }
  | { kind: "department"; departments: Department[] }
);

/** The profession or department select of the new-user, edit and sign-up forms. */
export function Picker(props: PickerProps) {
  const { t } = useI18n();
  const name = props.kind === "profession" ? "profession" : "department_id";
  const options =
    props.kind === "profession"
      ? (props.professions ?? PROFESSIONS).map((p) => ({ value: p, label: t(`profession.${p}` as MessageKey) }))
      : props.departments.map((d) => ({ value: d.id, label: d.name }));
  return (
    <label className="field">
      <span>{t(`admin.field.${name}`)}</span>
      <select name={name} value={props.value} onChange={(e) => props.onChange(e.target.value)} required={props.required}>
        {props.kind === "department" ? (
          <option value="">{t("admin.none")}</option>
        ) : (
          props.value === "" && (
            <option value="" disabled>
              —
            </option>
          )
        )}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
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
