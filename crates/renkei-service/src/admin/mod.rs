//! Organization administration beyond single edits: applications through the invite link,
//! CSV import and export of users, the audit log and its CSV, seats and usage statistics.

pub mod applications;
pub mod audit;
pub mod csv_codec;
pub mod download;
pub mod policy;
pub mod stats;
pub mod user_csv;
pub mod user_csv_rows;
