//! Look-ups for DICOMweb: the studies a user may see (their organization's, and those shared
//! into their conversations), found by Study Instance UID.

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::Study;
use sqlx::Row;

use crate::attachments::LIVE_LINK;
use crate::dicom::{STUDY_COLUMNS, study_from_row};
use crate::{Store, StoreError};

/// Studies of organization `$1`, or linked into a conversation user `$2` is a member of
/// (`LINKED` is replaced by a further condition on the link `l`).
const VISIBLE: &str = "(org_id = $1 OR EXISTS (SELECT 1 FROM study_links l
     JOIN conversation_members m ON m.conversation_id = l.conversation_id AND m.user_id = $2
     WHERE l.study_id = studies.id AND LINKED))";

impl Store {
    /// The live studies `user` of `org_id` may see, newest first (shared ones only where their
    /// link has not expired).
    pub async fn visible_studies(
        &self,
        org_id: Uuid,
        user: Uuid,
        limit: i64,
    ) -> Result<Vec<Study>, StoreError> {
        let visible = VISIBLE.replace("LINKED", &LIVE_LINK.replace("$NOW", "$4"));
        let sql = format!(
            "{STUDY_COLUMNS} WHERE expired_at IS NULL AND {visible} ORDER BY created_at DESC, id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(user.to_string())
            .bind(limit)
            .bind(Timestamp::now().millis())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(study_from_row).collect()
    }

    /// The study with this Study Instance UID that `user` of `org_id` may see (expired ones
    /// and expired links included, so the caller can answer 410), their own organization's first.
    pub async fn visible_study_by_uid(
        &self,
        org_id: Uuid,
        user: Uuid,
        study_uid: &str,
    ) -> Result<Study, StoreError> {
        let visible = VISIBLE.replace("LINKED", "1 = 1");
        let sql = format!(
            "{STUDY_COLUMNS} WHERE study_uid = $3 AND {visible}
             ORDER BY CASE WHEN org_id = $1 THEN 0 ELSE 1 END, created_at LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(user.to_string())
            .bind(study_uid)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(study_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// The SOP Instance UID of the first instance of a study (of one series when given).
    pub async fn first_instance_uid(
        &self,
        study: Uuid,
        series_uid: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT sop_uid FROM instances WHERE study_id = $1 AND ($2 IS NULL OR series_uid = $2)
             ORDER BY series_uid, instance_number, sop_uid LIMIT 1",
        )
        .bind(study.to_string())
        .bind(series_uid)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get("sop_uid"))
            .transpose()
            .map_err(Into::into)
    }
}
