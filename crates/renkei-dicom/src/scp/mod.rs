//! DICOM SCP: the network service that receives images from PACS and modalities (DICOM Upper
//! Layer, C-ECHO and C-STORE), checks who calls and hands each complete instance to a sink.

mod association;
pub mod command;
pub mod config;
pub mod error;
pub mod gatekeeper;
pub mod negotiate;
mod own_thread;
pub mod part10;
pub mod pdu;
mod server;
pub mod sink;
pub mod status;
pub mod transport;

pub use config::ScpConfig;
pub use error::ScpError;
pub use gatekeeper::{Caller, Gatekeeper, Rejection};
pub use own_thread::{may_block_here, run_blocking};
pub use server::serve;
pub use sink::{InstanceSink, ReceivedInstance, StoreFailure, StoreFuture, StoreOutcome};
pub use transport::Transport;
