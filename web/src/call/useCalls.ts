//! The call controller's snapshot for React screens.

import { useSyncExternalStore } from "react";
import { session } from "../session";
import type { CallSnapshot } from "./controller";

export function useCalls(): CallSnapshot {
  return useSyncExternalStore(session.calls.subscribe, session.calls.getSnapshot);
}
