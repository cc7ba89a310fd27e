//! Organization administration beyond single edits: applications through the invite link,
//! CSV import and export of users, the audit log as CSV, seats and usage statistics.

pub mod applications;
pub mod csv_codec;
pub mod policy;
pub mod stats;
pub mod user_csv;
pub mod user_csv_rows;
