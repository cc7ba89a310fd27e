//! `renkei gateway`: the edge gateway (receive DICOM inside the hospital, de-identify, queue,
//! forward), `renkei gateway status`, and `renkei gateway held` (instances held because their
//! pixels may show a patient: list, release, discard).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use renkei_gateway::GatewayOptions;
use renkei_gateway::held::{self, Action};

/// Run an edge gateway, or show its state.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GatewayArgs {
    #[command(subcommand)]
    command: Option<GatewayCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum GatewayCommand {
    /// Show what a gateway queued, sent and failed (whether it runs or not).
    Status {
        /// The gateway's data folder
        #[arg(long, default_value = "renkei-gateway")]
        data_dir: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Instances held because their pixels may show a patient: list, release or discard them.
    Held {
        #[command(subcommand)]
        command: HeldCommand,
    },
}

#[derive(Subcommand)]
enum HeldCommand {
    /// List the held instances (no patient data: id, modality, device, regions, when).
    List {
        /// The gateway's data folder
        #[arg(long, default_value = "renkei-gateway")]
        data_dir: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Confirm a held instance clean: it is sent to the server (logged in held.log).
    Release {
        /// Its id from `held list` (or the start of it)
        id: String,
        /// The gateway's data folder
        #[arg(long, default_value = "renkei-gateway")]
        data_dir: PathBuf,
    },
    /// Delete a held instance at the gateway: it is never sent (logged in held.log).
    Discard {
        /// Its id from `held list` (or the start of it)
        id: String,
        /// The gateway's data folder
        #[arg(long, default_value = "renkei-gateway")]
        data_dir: PathBuf,
    },
}

#[derive(Args)]
struct RunArgs {
    /// The renkei server's base URL: https://… (http:// only to this machine)
    #[arg(long, env = "RENKEI_GATEWAY_SERVER")]
    server: Option<String>,
    /// The gateway's token from `renkei admin create-gateway` (prefer the environment variable:
    /// a flag is visible to other users of the machine)
    #[arg(long, env = "RENKEI_GATEWAY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Address of the DICOM port
    #[arg(long, default_value = "0.0.0.0:11112")]
    dicom_listen: String,
    /// The gateway's AE title
    #[arg(long, default_value = "RENKEI")]
    dicom_ae: String,
    /// Folder for the gateway's key, queue and status
    #[arg(long, default_value = "renkei-gateway")]
    data_dir: PathBuf,
    /// Log format: text or json
    #[arg(long, default_value = "text")]
    log_format: String,
    /// PEM file of the CA that signed the server's certificate (a hospital's private CA),
    /// trusted instead of the system's roots
    #[arg(long, env = "RENKEI_GATEWAY_SERVER_CA")]
    server_ca: Option<PathBuf>,
    /// How often the configuration (DICOM peers, redaction rules) is fetched again, in seconds
    #[arg(long, default_value_t = renkei_gateway::REFRESH_EVERY.as_secs())]
    config_refresh: u64,
}

/// Lists, releases or discards held instances.
fn held_command(command: HeldCommand) -> Result<(), String> {
    let (data_dir, id, action) = match command {
        HeldCommand::List { data_dir, json } => {
            let notes = held::notes(&data_dir).map_err(|e| e.to_string())?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&notes).map_err(|e| e.to_string())?
                );
            } else {
                for note in &notes {
                    println!("{}", renkei_gateway::status::held_line(note));
                }
                println!("{} held", notes.len());
            }
            return Ok(());
        }
        HeldCommand::Release { id, data_dir } => (data_dir, id, Action::Released),
        HeldCommand::Discard { id, data_dir } => (data_dir, id, Action::Discarded),
    };
    settle(&data_dir, &id, action)
}

fn settle(data_dir: &Path, id: &str, action: Action) -> Result<(), String> {
    if !data_dir.is_dir() {
        return Err(format!(
            "{} is not a gateway data folder",
            data_dir.display()
        ));
    }
    let note = held::settle(data_dir, id, action).map_err(|e| e.to_string())?;
    match action {
        Action::Released => println!(
            "released {} ({}): queued for the server (logged in held.log)",
            note.id, note.modality
        ),
        Action::Discarded => println!(
            "discarded {} ({}): never sent (logged in held.log)",
            note.id, note.modality
        ),
    }
    Ok(())
}

pub async fn run(args: GatewayArgs) -> Result<(), String> {
    if let Some(GatewayCommand::Status { data_dir, json }) = args.command {
        let report = renkei_gateway::report(&data_dir)?;
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
            );
        } else {
            print!("{}", report.human());
        }
        return Ok(());
    }
    if let Some(GatewayCommand::Held { command }) = args.command {
        return held_command(command);
    }
    let run = args.run;
    let server = run
        .server
        .ok_or("--server (or RENKEI_GATEWAY_SERVER) is required")?;
    let token = run
        .token
        .ok_or("--token (or RENKEI_GATEWAY_TOKEN) is required")?;
    crate::serve::init_logging(&run.log_format)?;
    let options = GatewayOptions {
        server,
        token,
        data_dir: run.data_dir,
        dicom_listen: run.dicom_listen,
        ae_title: run.dicom_ae,
        server_ca: run.server_ca,
        config_refresh: Duration::from_secs(run.config_refresh),
    };
    renkei_gateway::run(options, crate::serve::shutdown_signal()).await
}
