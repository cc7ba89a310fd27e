//! Throw-away PostgreSQL databases for tests and benchmarks: created fresh, dropped after.

use sqlx::AnyConnection;
use sqlx::Connection;

/// The environment variable naming the PostgreSQL server tests may use.
pub const TEST_POSTGRES_URL_VAR: &str = "RENKEI_TEST_POSTGRES_URL";

/// A database created for one test run; dropped (with its connections) when this is dropped.
#[derive(Debug)]
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates a fresh database on the server of `RENKEI_TEST_POSTGRES_URL`, or returns `None`
    /// (after saying so on stderr) when the variable is unset.
    pub async fn create(purpose: &str) -> Option<ScratchDatabase> {
        let Ok(admin_url) = std::env::var(TEST_POSTGRES_URL_VAR) else {
            eprintln!("SKIPPED PostgreSQL half of {purpose}: {TEST_POSTGRES_URL_VAR} is not set");
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = format!("renkei_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = AnyConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{TEST_POSTGRES_URL_VAR} is set but unreachable: {e}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create scratch database");
        let _ = conn.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((server, db)) if !db.contains('@') && !server.ends_with('/') => {
                let query = db
                    .split_once('?')
                    .map(|(_, q)| format!("?{q}"))
                    .unwrap_or_default();
                format!("{server}/{name}{query}")
            }
            _ => format!("{}/{name}", admin_url.trim_end_matches('/')),
        };
        Some(ScratchDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// The URL of the scratch database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop may run inside a runtime, which cannot block: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = AnyConnection::connect(&admin_url).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop scratch database {}", self.name);
        }
    }
}
