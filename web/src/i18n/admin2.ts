// Strings of the screen error boundary, the audit details, departments, DICOM peers and
// gateways in the admin console, upload refusals and CSV import cell errors; spread into the
// catalogue (catalog.ts).

export const admin2En = {
  "boundary.title": "This screen could not be shown",
  "boundary.intro": "Something on this screen failed. Nothing you saved is lost. Go back, or reload the app.",
  "boundary.back": "Go back",
  "boundary.reload": "Reload",
  "admin.audit.before": "before",
  "admin.audit.after": "after",
};

export const admin2Ja: Record<keyof typeof admin2En, string> = {
  "boundary.title": "この画面を表示できませんでした",
  "boundary.intro": "画面の表示中に問題が起きました。保存済みの内容は失われていません。戻るか、アプリを再読み込みしてください。",
  "boundary.back": "戻る",
  "boundary.reload": "再読み込み",
  "admin.audit.before": "変更前",
  "admin.audit.after": "変更後",
};
