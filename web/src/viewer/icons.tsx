//! The viewer's toolbar icons (inline SVG paths; no external files, nothing inline-styled).

const PATHS = {
  scroll: "M12 2 7 7h4v10H7l5 5 5-5h-4V7h4z",
  window: "M12 3a9 9 0 1 0 0 18V3Zm0 0a9 9 0 0 1 0 18",
  pan: "M12 2 9 5h2v6H5V9l-3 3 3 3v-2h6v6H9l3 3 3-3h-2v-6h6v2l3-3-3-3v2h-6V5h2z",
  measure: "M3 17.3 17.3 3 21 6.7 6.7 21 3 17.3Zm3.4-.8 1.4 1.4 1.4-1.4-1.4-1.4-1.4 1.4Zm2.8-2.8 1.4 1.4 1.4-1.4-1.4-1.4-1.4 1.4Zm2.8-2.8 1.4 1.4 1.4-1.4-1.4-1.4-1.4 1.4Zm2.8-2.8 1.4 1.4 1.4-1.4-1.4-1.4-1.4 1.4Z",
  arrow: "M4.4 18.2 15.6 7H10V5h9v9h-2V8.4L5.8 19.6z",
  ellipse: "M12 5C6.5 5 2 8.1 2 12s4.5 7 10 7 10-3.1 10-7-4.5-7-10-7Zm0 12c-4.4 0-8-2.2-8-5s3.6-5 8-5 8 2.2 8 5-3.6 5-8 5Z",
  text: "M5 4h14v3h-2V6h-4v12h2v2H9v-2h2V6H7v1H5z",
  compare: "M3 4h8v16H3zm2 2v12h4V6zm8-2h8v16h-8zm2 2v12h4V6z",
  link: "M10.6 13.4a1 1 0 0 0 1.4 0l4-4a3 3 0 0 0-4.2-4.2l-1.5 1.5 1.4 1.4 1.5-1.5a1 1 0 0 1 1.4 1.4l-4 4a1 1 0 0 0 0 1.4ZM13.4 10.6a1 1 0 0 0-1.4 0l-4 4a3 3 0 0 0 4.2 4.2l1.5-1.5-1.4-1.4-1.5 1.5a1 1 0 0 1-1.4-1.4l4-4a1 1 0 0 0 0-1.4Z",
  play: "M8 5v14l11-7z",
  pause: "M6 5h4v14H6zm8 0h4v14h-4z",
  reset: "M12 5V2L7 6l5 4V7a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8Z",
  zoomIn: "M10 4a6 6 0 0 1 4.8 9.6l5.3 5.3-1.4 1.4-5.3-5.3A6 6 0 1 1 10 4Zm-1 3v2H7v2h2v2h2v-2h2V9h-2V7H9Z",
  zoomOut: "M10 4a6 6 0 0 1 4.8 9.6l5.3 5.3-1.4 1.4-5.3-5.3A6 6 0 1 1 10 4ZM7 9v2h6V9H7Z",
  warning: "M12 2 1 21h22L12 2Zm1 15h-2v-2h2v2Zm0-4h-2V9h2v4Z",
  ecg: "M2 12h4l2-5 3 10 3-13 2 8h6v2h-7.5L14 10l-3 11-3-10-1 3H2z",
  share: "M18 16a3 3 0 0 0-2.4 1.2l-7-3.5a3 3 0 0 0 0-1.4l7-3.5A3 3 0 1 0 15 7l-7 3.5a3 3 0 1 0 0 3L15 17a3 3 0 1 0 3-1Z",
  series: "M4 6h4v4H4zm6 0h4v4h-4zm6 0h4v4h-4zM4 14h4v4H4zm6 0h4v4h-4zm6 0h4v4h-4z",
  redact: "M3 5h18v14H3V5Zm2 2v10h14V7H5Zm2 2h10v3H7V9Z",
} as const;

export type ViewerIconName = keyof typeof PATHS;

export function ViewerIcon({ name, size = 22 }: { name: ViewerIconName; size?: number }) {
  return (
    <svg viewBox="0 0 24 24" width={size} height={size} focusable="false" aria-hidden="true">
      {name === "window" ? (
        <>
          <circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" strokeWidth="2" />
          <path fill="currentColor" d="M12 3a9 9 0 0 0 0 18Z" />
        </>
      ) : (
        <path fill="currentColor" d={PATHS[name]} />
      )}
    </svg>
  );
}
