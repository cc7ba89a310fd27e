//! The `renkei` command: `serve` runs the server, `admin` manages accounts from a shell,
//! `gateway` runs an edge gateway, `openapi` prints the API's OpenAPI document.

mod admin;
mod backup;
mod config;
mod gateway;
mod serve;
mod tls;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// renkei: secure communication for hospitals and regional medical networks.
#[derive(Parser)]
#[command(version = version_text(), about)]
struct Cli {
    /// Configuration file (default: ./renkei.toml when it exists). Every key may also be set
    /// as a RENKEI_* environment variable; flags win over both.
    #[arg(long, global = true, env = "RENKEI_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives; shared by every subcommand.
#[derive(Args, Clone, Default)]
pub struct StorageArgs {
    /// Folder for the embedded database and files [default: ./renkei-data]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…); without it, SQLite in the data folder is used
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(serve::ServeArgs),
    /// Manage organizations, departments and users directly in the database.
    Admin {
        #[command(flatten)]
        storage: StorageArgs,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Run an edge gateway inside a hospital's network (receive DICOM, de-identify, forward
    /// to the server), or show its state with `renkei gateway status`.
    Gateway(gateway::GatewayArgs),
    /// Print the API's OpenAPI document (JSON), the one served at /api/openapi.json; the web
    /// client's types are generated from it (web/openapi.json).
    Openapi,
}

/// `renkei --version`: the release and the database schema version it migrates to (a database
/// migrated further by a newer release is refused at start).
fn version_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{} (database schema {})",
            env!("CARGO_PKG_VERSION"),
            renkei_store::SCHEMA_VERSION
        )
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(cli.config.as_deref(), args).await,
            Command::Admin { storage, command } => {
                admin::run(cli.config.as_deref(), storage, command).await
            }
            Command::Gateway(args) => gateway::run(args).await,
            Command::Openapi => print_openapi(),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `renkei openapi`: the document as pretty JSON and a final newline, so the committed copy
/// (`web/openapi.json`) is exactly this output.
fn print_openapi() -> Result<(), String> {
    let json = serde_json::to_string_pretty(renkei_server::openapi())
        .map_err(|e| format!("cannot write the OpenAPI document: {e}"))?;
    // A reader that stops early (`| head`) is not an error.
    match writeln!(std::io::stdout().lock(), "{json}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write the OpenAPI document: {e}"))
        }
        _ => Ok(()),
    }
}
