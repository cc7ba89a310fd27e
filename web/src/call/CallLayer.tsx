//! Where calls show over the app: nothing until a call rings, runs or a refusal is to be read;
//! then the call screens' chunk loads (ringing shows over anything, the viewer included).

import { lazy, Suspense } from "react";
import { useCalls } from "./useCalls";
import { ScreenBoundary } from "../screens/ScreenBoundary";

const CallScreen = lazy(() => import("./CallScreen"));

export function CallLayer() {
  const calls = useCalls();
  if (!calls.shown && !calls.problem && !calls.shared) return null;
  return (
    <ScreenBoundary name="call" overlay onBack={() => undefined}>
      <Suspense fallback={null}>
        <CallScreen />
      </Suspense>
    </ScreenBoundary>
  );
}
