//! `renkei-bench`: load generators that drive a running renkei server from outside, the way
//! clients do, and report what they measured. `chat` measures WebSocket message delivery, `push`
//! the same load's Web Push to a push service stand-in.

mod api;
mod chat;
mod client;
mod ledger;
mod procfs;
mod push;
mod report;
mod setup;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// The error every fallible step returns: a message for a person.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;
pub type BenchResult<T> = Result<T, BenchError>;

#[derive(Parser)]
#[command(name = "renkei-bench", version, about = "Load generators for renkei")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Groups of users chatting over WebSocket at a fixed aggregate rate; measures ack and
    /// delivery latency, completeness, and the server's CPU and memory.
    Chat(ChatArgs),
    /// The chat load with every user subscribed to Web Push at a `renkei-push-standin`;
    /// measures commit → push accepted and the server's CPU per push.
    Push(PushArgs),
}

/// The parameters of a push run: a chat run's, and where the stand-in listens.
#[derive(Args, Clone, Debug)]
pub struct PushArgs {
    #[command(flatten)]
    pub chat: ChatArgs,
    /// The push service stand-in (`renkei-push-standin`); the server's `push_endpoint_allow`
    /// must list its `host:port`.
    #[arg(long, default_value = "http://127.0.0.1:8765")]
    pub standin: String,
}

/// The parameters of a chat run.
#[derive(Args, Clone, Debug)]
pub struct ChatArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The login of an organization administrator who creates the users and groups.
    #[arg(long, default_value = "admin")]
    pub admin_login: String,
    /// Its password (the one-time password printed at first start will do: it is replaced by
    /// `--admin-new-password` when the server asks for a new one).
    #[arg(long, env = "RENKEI_BENCH_ADMIN_PASSWORD")]
    pub admin_password: String,
    /// The administrator's password after a forced change.
    #[arg(long, default_value = "renkei bench admin 2026")]
    pub admin_new_password: String,
    /// Connected clients (one user each).
    #[arg(long, default_value_t = 200)]
    pub clients: usize,
    /// Members per group; every client is in exactly one group and must divide `--clients`.
    #[arg(long, default_value_t = 10)]
    pub group_size: usize,
    /// Messages per second sent, all clients together, spread evenly.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 5.0)]
    pub warmup: f64,
    /// Seconds to wait, after sending stops, for outstanding acks and deliveries.
    #[arg(long, default_value_t = 10.0)]
    pub drain: f64,
    /// The server's process id, for its CPU time and memory (Linux, same machine).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Concurrent HTTP requests during setup (each user costs a few password hashes).
    #[arg(long, default_value_t = 4)]
    pub setup_concurrency: usize,
    /// Concurrent WebSocket handshakes while connecting.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Keep sessions here between runs against the same server, so reruns skip sign-ins.
    #[arg(long)]
    pub token_cache: Option<PathBuf>,
    /// Only create and sign in the users (into `--token-cache`), then exit: a server restarted
    /// afterwards runs without the memory that setup's password hashing left behind.
    #[arg(long, requires = "token_cache")]
    pub setup_only: bool,
    /// Prefix of the benchmark users' logins.
    #[arg(long, default_value = "bench-")]
    pub login_prefix: String,
    /// A label for the result row (e.g. the database).
    #[arg(long, default_value = "")]
    pub label: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("renkei-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        Command::Chat(args) => runtime.block_on(chat::run(args)),
        Command::Push(args) => runtime.block_on(push::run(args)),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("renkei-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
