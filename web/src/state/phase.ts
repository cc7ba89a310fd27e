// Where the app stands with the signed-in user (which screen shows), and the rule for the step
// after signing in, unlocking or changing a credential. Pure, so the rule is tested.

import type { Me } from "../types";

export type Phase =
  | "starting"
  | "signedOut"
  | "secondFactor"
  | "enrollSecondFactor"
  | "changePassword"
  | "setPasscode"
  | "locked"
  | "ready";

/**
 * The step after authenticating: a one-time password is replaced first; then a passcode is set
 * (unless the organization does not require one and the user put it off); then the lock screen
 * when the session starts locked (`lockFirst`), else the app.
 */
export function phaseAfterAuth(me: Me, lockFirst: boolean, passcodePutOff: boolean): "changePassword" | "setPasscode" | "locked" | "ready" {
  if (me.user.must_change_password) return "changePassword";
  if (!me.has_passcode && (me.organization.policy.passcode_required || !passcodePutOff)) return "setPasscode";
  return lockFirst ? "locked" : "ready";
}
