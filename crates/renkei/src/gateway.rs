//! `renkei gateway`: the edge gateway (receive DICOM inside the hospital, de-identify, queue,
//! forward), and `renkei gateway status`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use renkei_gateway::GatewayOptions;

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
    };
    renkei_gateway::run(options, crate::serve::shutdown_signal()).await
}
