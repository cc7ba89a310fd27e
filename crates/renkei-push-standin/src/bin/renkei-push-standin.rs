//! `renkei-push-standin`: the push service stand-in as a process, for `bench/push.sh`.
//!
//! ```text
//! renkei-push-standin [--port 8765] [--vapid-key <base64url>] [--decrypt-later]
//!   POST /subscribe   -> a new subscription, as PushSubscription.toJSON()
//!   POST /push/<id>   -> checked, decrypted, 201 (see the library's documentation)
//!   GET  /stats       -> {"count","accepted","rejected","arrivals":[{"endpoint","at_us",...}]}
//!   GET  /stats/count -> {"count","accepted","rejected"}
//! ```
//! It prints `listening on 127.0.0.1:PORT` when ready and a summary on SIGINT or SIGTERM.
//! `--decrypt-later` answers before decrypting and decrypts when `/stats` is read (see
//! `StandIn::decrypt_later`): the benchmark's setting, so that the stand-in's ECDH per push
//! does not compete with the server under test for the machine's cores.

use std::net::SocketAddr;
use std::process::ExitCode;

use renkei_push_standin::StandIn;

const USAGE: &str =
    "usage: renkei-push-standin [--port PORT] [--vapid-key BASE64URL] [--decrypt-later]";

fn main() -> ExitCode {
    let mut port: u16 = 8765;
    let mut vapid_key = None;
    let mut decrypt_later = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--decrypt-later" {
            decrypt_later = true;
            continue;
        }
        match (arg.as_str(), args.next()) {
            ("--port", Some(v)) => match v.parse() {
                Ok(p) => port = p,
                Err(_) => {
                    eprintln!("{USAGE}");
                    return ExitCode::FAILURE;
                }
            },
            ("--vapid-key", Some(v)) => vapid_key = Some(v),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("renkei-push-standin: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let standin = match StandIn::start_on(SocketAddr::from(([127, 0, 0, 1], port))).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("renkei-push-standin: cannot listen on 127.0.0.1:{port}: {e}");
                return ExitCode::FAILURE;
            }
        };
        if decrypt_later {
            standin.decrypt_later();
        }
        if let Some(key) = vapid_key {
            standin.expect_vapid_key(&key);
        }
        println!("listening on {}", standin.host_port());
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("renkei-push-standin: {e}");
                    return ExitCode::FAILURE;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        let all = standin.received_all();
        let accepted = all.iter().filter(|(_, r)| r.accepted()).count();
        let rejections = standin.rejections();
        println!(
            "renkei-push-standin: {} requests, {accepted} accepted, {} rejected",
            all.len(),
            rejections.len()
        );
        for (id, why) in rejections.iter().take(10) {
            println!("  rejected at {id}: {why}");
        }
        ExitCode::SUCCESS
    })
}
