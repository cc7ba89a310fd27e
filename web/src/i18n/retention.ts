// Catalogue strings of issue 24: the organization's message retention (admin policy) and the
// line a timeline shows where its older messages were destroyed.

export const retentionEn = {
  "admin.policy.message_retention_days": "Keep messages for (days; empty: always)",
  "notice.messagesExpired": "Earlier messages were deleted because their retention period ended",
};

export const retentionJa: Record<keyof typeof retentionEn, string> = {
  "admin.policy.message_retention_days": "メッセージの保存日数（空欄: 無期限）",
  "notice.messagesExpired": "以前のメッセージは保存期間を過ぎたため削除されました",
};
