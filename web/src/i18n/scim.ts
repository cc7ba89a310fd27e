// Strings of the admin console's provisioning (SCIM) page; spread into the catalogue (catalog.ts).

export const scimEn = {
  "admin.tab.scim": "Provisioning",
  "admin.scim.title": "Provisioning from your identity provider (SCIM 2.0)",
  "admin.scim.intro":
    "Entra ID, Okta or another identity provider can create, update and retire your staff's accounts, and keep departments as groups. Give it the tenant URL and the token below.",
  "admin.scim.tenantUrl": "Tenant URL",
  "admin.scim.token": "Secret token",
  "admin.scim.none": "No token yet: provisioning is off.",
  "admin.scim.active": "Token created {date}.",
  "admin.scim.lastUsed": "Last used {date}.",
  "admin.scim.neverUsed": "Not used yet.",
  "admin.scim.create": "Create token",
  "admin.scim.rotate": "Replace token (the old one stops working)",
  "admin.scim.revoke": "Revoke token",
  "admin.scim.confirmRevoke": "Revoke: provisioning stops now",
  "admin.scim.copy": "Copy",
  "admin.scim.shownOnce": "Copy this token now: it is shown only once. renkei keeps only a hash of it.",
  "admin.scim.revoked": "Token revoked. Provisioning has stopped.",
  "admin.scim.notes":
    "Deactivating a user in the identity provider retires the account here and signs it out everywhere; nothing is ever deleted. Server administrators are never changed by provisioning.",
} as const;

export const scimJa: Record<keyof typeof scimEn, string> = {
  "admin.tab.scim": "ID連携 (SCIM)",
  "admin.scim.title": "IDプロバイダーからのプロビジョニング (SCIM 2.0)",
  "admin.scim.intro":
    "Entra ID や Okta などの ID プロバイダーが、職員のアカウントの作成・更新・退職処理を行い、部署をグループとして同期できます。下のテナント URL とトークンを設定してください。",
  "admin.scim.tenantUrl": "テナント URL",
  "admin.scim.token": "シークレット トークン",
  "admin.scim.none": "トークンがありません。プロビジョニングは無効です。",
  "admin.scim.active": "トークン作成日: {date}。",
  "admin.scim.lastUsed": "最終利用: {date}。",
  "admin.scim.neverUsed": "まだ利用されていません。",
  "admin.scim.create": "トークンを作成",
  "admin.scim.rotate": "トークンを作り直す(古いトークンは無効になります)",
  "admin.scim.revoke": "トークンを無効にする",
  "admin.scim.confirmRevoke": "無効にする(プロビジョニングは直ちに止まります)",
  "admin.scim.copy": "コピー",
  "admin.scim.shownOnce": "このトークンは今だけ表示されます。今すぐコピーしてください。renkei にはハッシュだけが保存されます。",
  "admin.scim.revoked": "トークンを無効にしました。プロビジョニングは停止しています。",
  "admin.scim.notes":
    "ID プロバイダーでユーザーを無効にすると、こちらのアカウントは退職扱いになり、すべての端末でサインアウトされます。削除されることはありません。サーバー管理者はプロビジョニングで変更されません。",
};
