//! Live messaging at the HTTP edge: the WebSocket session. The writer, bus, hub and frames live
//! in `renkei_service::messaging`.

pub mod socket;

pub use renkei_service::messaging::*;
