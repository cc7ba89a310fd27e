//! One association from A-ASSOCIATE-RQ to release or abort: negotiation, then the DIMSE loop
//! (C-ECHO, C-STORE) with message assembly from P-DATA fragments.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dicom_ul::Pdu;
use dicom_ul::pdu::{AssociationRJ, AssociationRQ, PDataValueType};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::sync::watch;

use super::command::{
    C_CANCEL_RQ, C_ECHO_RQ, C_ECHO_RSP, C_STORE_RQ, C_STORE_RSP, Command, Response,
};
use super::config::ScpConfig;
use super::error::ScpError;
use super::gatekeeper::{Caller, Gatekeeper, Rejection};
use super::negotiate::{self, AcceptedContext, VERIFICATION_SOP_CLASS};
use super::part10;
use super::pdu;
use super::sink::{InstanceSink, ReceivedInstance, StoreFailure};
use super::status;
use super::transport::Conn;
use crate::inflight::{Buffer, InFlightError};

/// The longest command set we assemble (real ones are a few hundred bytes).
const MAX_COMMAND_LENGTH: usize = 64 * 1024;
/// Socket read buffer, for headers and small PDUs: larger reads (data set fragments) bypass it
/// and go straight from the socket into the instance being assembled.
const READ_BUFFER: usize = 16 * 1024;

/// What one association needs from the server.
pub(crate) struct Services {
    pub config: Arc<ScpConfig>,
    pub gatekeeper: Arc<dyn Gatekeeper>,
    pub sink: Arc<dyn InstanceSink>,
}

/// Serves one connection to its end; errors are logged here, never returned.
pub(crate) async fn run(
    stream: Conn,
    peer: SocketAddr,
    services: Arc<Services>,
    stop: watch::Receiver<bool>,
) {
    let mut stream = BufReader::with_capacity(READ_BUFFER, stream);
    let config = &services.config;
    let mut rejected = false;
    let outcome = match read_request(&mut stream, config.read_timeout, stop.clone()).await {
        Ok(request) => match admit(&request, peer, &services).await {
            Ok((caller, negotiated)) => {
                let accept = Pdu::AssociationAC(negotiated.accept);
                match pdu::write(&mut stream, &accept, config.read_timeout).await {
                    Ok(()) => {
                        tracing::info!(
                            %peer,
                            calling_ae = %caller.calling_ae,
                            contexts = negotiated.contexts.len(),
                            "association accepted"
                        );
                        let mut association = Association {
                            stream,
                            services: services.clone(),
                            caller,
                            contexts: negotiated.contexts,
                            peer_max_pdu_length: negotiated.peer_max_pdu_length,
                            stop,
                            stored: 0,
                            data_size_hint: 0,
                            scratch: Vec::new(),
                        };
                        let result = association.serve().await;
                        tracing::info!(%peer, stored = association.stored, "association ended");
                        stream = association.stream;
                        result
                    }
                    Err(error) => Err(error),
                }
            }
            Err(rejection) => {
                rejected = true;
                let result = pdu::write(
                    &mut stream,
                    &Pdu::AssociationRJ(rejection),
                    config.read_timeout,
                )
                .await;
                let _ = stream.get_mut().shutdown().await;
                result
            }
        },
        Err(error) => Err(error),
    };
    let result = match &outcome {
        Ok(()) if rejected => "rejected",
        Ok(()) => "completed",
        Err(ScpError::PeerAborted | ScpError::PeerClosed) => "ended_by_peer",
        Err(_) => "failed",
    };
    metrics::counter!("renkei_dicom_associations_total", "result" => result).increment(1);
    if let Err(error) = outcome {
        if result == "failed" {
            metrics::counter!("renkei_dicom_association_failures_total", "code" => error.code())
                .increment(1);
        }
        end_with_error(&mut stream, peer, &error, config).await;
    }
}

/// Reads the A-ASSOCIATE-RQ that opens every association.
pub(crate) async fn read_request(
    stream: &mut BufReader<Conn>,
    timeout: Duration,
    stop: watch::Receiver<bool>,
) -> Result<AssociationRQ, ScpError> {
    let pdu = tokio::select! {
        biased;
        () = stopped(stop) => return Err(ScpError::Shutdown),
        pdu = pdu::timed(timeout, pdu::read(stream, pdu::MAX_CONTROL_PDU_LENGTH)) => pdu?,
    };
    match pdu {
        Pdu::AssociationRQ(request) => Ok(request),
        other => Err(ScpError::UnexpectedPdu(pdu_name(&other))),
    }
}

/// Called AE, gatekeeper (asked again after a reload when it does not know the caller), then
/// presentation contexts.
async fn admit(
    request: &AssociationRQ,
    peer: SocketAddr,
    services: &Services,
) -> Result<(Caller, negotiate::Negotiated), AssociationRJ> {
    if let Err(rejection) = negotiate::precheck(request, &services.config) {
        tracing::warn!(%peer, calling_ae = %request.calling_ae_title, reason = %rejection.source, "association rejected");
        return Err(rejection);
    }
    let gatekeeper = &services.gatekeeper;
    let ask = || {
        gatekeeper.admit(
            &request.calling_ae_title,
            &request.called_ae_title,
            peer.ip(),
        )
    };
    let mut answer = ask();
    if let Err(Rejection::UnknownCaller { .. }) = answer {
        gatekeeper.reload().await;
        answer = ask();
    }
    let caller = answer
        .map_err(|refusal| {
            tracing::warn!(%peer, calling_ae = %request.calling_ae_title, code = refusal.code(), %refusal, "association refused by the gatekeeper");
            negotiate::rejection(&refusal)
        })?;
    Ok((caller, negotiate::negotiate(request, &services.config)))
}

/// Tells the peer (A-ABORT) when it still listens, then closes.
async fn end_with_error(
    stream: &mut BufReader<Conn>,
    peer: SocketAddr,
    error: &ScpError,
    config: &ScpConfig,
) {
    match error {
        ScpError::PeerAborted | ScpError::PeerClosed => {
            tracing::info!(%peer, code = error.code(), "association ended by the peer");
        }
        _ => {
            tracing::warn!(%peer, code = error.code(), %error, "aborting the association");
            let abort = pdu::abort(pdu::abort_reason(error));
            let _ = pdu::write(stream, &abort, config.read_timeout.min(WRITE_GRACE)).await;
        }
    }
    let _ = stream.get_mut().shutdown().await;
}

/// How long an A-ABORT may take to leave.
const WRITE_GRACE: Duration = Duration::from_secs(5);

/// Resolves once the server asks associations to stop; never if it cannot ask any more.
async fn stopped(mut stop: watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn pdu_name(pdu: &Pdu) -> &'static str {
    match pdu {
        Pdu::Unknown { .. } => "unknown",
        Pdu::AssociationRQ(_) => "A-ASSOCIATE-RQ",
        Pdu::AssociationAC(_) => "A-ASSOCIATE-AC",
        Pdu::AssociationRJ(_) => "A-ASSOCIATE-RJ",
        Pdu::PData { .. } => "P-DATA-TF",
        Pdu::ReleaseRQ => "A-RELEASE-RQ",
        Pdu::ReleaseRP => "A-RELEASE-RP",
        Pdu::AbortRQ { .. } => "A-ABORT",
    }
}

/// An established association.
struct Association {
    stream: BufReader<Conn>,
    services: Arc<Services>,
    caller: Caller,
    contexts: HashMap<u8, AcceptedContext>,
    peer_max_pdu_length: u32,
    stop: watch::Receiver<bool>,
    stored: u64,
    /// The last data set's size: room reserved for the next one, so a series of equal
    /// instances is assembled without growing (and copying) its buffer.
    data_size_hint: usize,
    /// Where a fragment of a spilled data set is read before it is sealed.
    scratch: Vec<u8>,
}

/// The most room reserved ahead for a data set.
const MAX_SIZE_HINT: usize = 64 * 1024 * 1024;

/// A DIMSE message being assembled from PDVs.
struct Message {
    context_id: u8,
    command_bytes: Vec<u8>,
    command: Option<Command>,
    data: Data,
}

/// What happens to the data set fragments of the message.
enum Data {
    /// No data set (yet).
    None,
    /// Collected into a Part 10 file behind its meta group: in memory, or sealed on disk.
    Collect {
        buffer: Buffer,
        dataset_offset: usize,
    },
    /// Read and dropped; the request is answered with this failure.
    Discard { answer: Answer },
}

/// The data set is read and dropped, and answered with Out of Resources and `comment`.
fn out_of_resources(comment: &'static str) -> Data {
    Data::Discard {
        answer: Answer {
            status: status::OUT_OF_RESOURCES,
            comment,
        },
    }
}

/// The data set could not be kept (memory or spill space spent, a spill file failing).
fn in_flight_failure(error: &InFlightError) -> Data {
    tracing::warn!(code = error.code(), %error, "a data set in flight is dropped");
    out_of_resources(error.comment())
}

/// A non-success answer decided before the data set is complete.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    comment: &'static str,
}

impl Association {
    async fn serve(&mut self) -> Result<(), ScpError> {
        let config = self.services.config.clone();
        let mut message: Option<Message> = None;
        loop {
            let header = tokio::select! {
                biased;
                () = stopped(self.stop.clone()) => return Err(ScpError::Shutdown),
                header = pdu::timed(config.read_timeout, pdu::read_header(&mut self.stream, config.max_pdu_length)) => header?,
            };
            if header.is_pdata() {
                let mut left = header.length;
                while left > 0 {
                    let item =
                        pdu::timed(config.read_timeout, pdu::read_item(&mut self.stream, left))
                            .await?;
                    left -= item.size();
                    if let Some(complete) = self.take_fragment(&mut message, item).await? {
                        self.dispatch(complete).await?;
                    }
                }
                continue;
            }
            match pdu::timed(
                config.read_timeout,
                pdu::read_body(&mut self.stream, header),
            )
            .await?
            {
                Pdu::ReleaseRQ => {
                    if message.is_some() {
                        tracing::warn!(
                            peer = %self.caller.peer,
                            "release requested in the middle of a message; the message is dropped"
                        );
                    }
                    pdu::write(&mut self.stream, &Pdu::ReleaseRP, config.read_timeout).await?;
                    let _ = self.stream.get_mut().shutdown().await;
                    return Ok(());
                }
                Pdu::AbortRQ { .. } => return Err(ScpError::PeerAborted),
                other => return Err(ScpError::UnexpectedPdu(pdu_name(&other))),
            }
        }
    }

    /// Reads one PDV item's data into the message under way; returns the message once it is
    /// complete. Data set fragments go straight into the instance being assembled.
    async fn take_fragment(
        &mut self,
        slot: &mut Option<Message>,
        item: pdu::Item,
    ) -> Result<Option<Message>, ScpError> {
        let Some(context) = self.contexts.get(&item.context_id) else {
            return Err(ScpError::Protocol(
                "P-DATA on a presentation context that was not accepted",
            ));
        };
        let message = slot.get_or_insert_with(|| Message {
            context_id: item.context_id,
            command_bytes: Vec::new(),
            command: None,
            data: Data::None,
        });
        if message.context_id != item.context_id {
            return Err(ScpError::Protocol(
                "one message spans two presentation contexts",
            ));
        }
        let length = item.data_length as usize;
        let timeout = self.services.config.read_timeout;
        match item.value_type {
            PDataValueType::Command => {
                if message.command.is_some() {
                    return Err(ScpError::Protocol("command fragment after the command"));
                }
                if message.command_bytes.len() + length > MAX_COMMAND_LENGTH {
                    return Err(ScpError::Protocol("command set too long"));
                }
                let command_bytes = &mut message.command_bytes;
                pdu::timed(
                    timeout,
                    pdu::read_into(&mut self.stream, command_bytes, length),
                )
                .await?;
                if !item.is_last {
                    return Ok(None);
                }
                let command = Command::parse(&message.command_bytes)
                    .map_err(|error| ScpError::Protocol(error.0))?;
                message.command_bytes = Vec::new();
                let has_data_set = command.has_data_set;
                if has_data_set {
                    message.data = self.prepare_data(&command, context);
                }
                message.command = Some(command);
                if has_data_set {
                    Ok(None)
                } else {
                    Ok(slot.take())
                }
            }
            PDataValueType::Data => {
                let Some(command) = &message.command else {
                    return Err(ScpError::Protocol("data set fragment before the command"));
                };
                if !command.has_data_set {
                    return Err(ScpError::Protocol(
                        "data set fragment for a command without data set",
                    ));
                }
                let limit = self.services.config.max_instance_size;
                if let Data::Collect { buffer, .. } = &message.data
                    && buffer.len() + length as u64 > limit
                {
                    message.data = out_of_resources("instance larger than the size limit");
                }
                if let Data::Collect { buffer, .. } = &mut message.data {
                    match buffer.room(length) {
                        Ok(Some(memory)) => {
                            pdu::timed(timeout, pdu::read_into(&mut self.stream, memory, length))
                                .await?
                        }
                        Ok(None) => {
                            let scratch = &mut self.scratch;
                            scratch.clear();
                            pdu::timed(timeout, pdu::read_into(&mut self.stream, scratch, length))
                                .await?;
                            if let Err(error) = buffer.append(scratch) {
                                message.data = in_flight_failure(&error);
                            }
                        }
                        Err(error) => {
                            message.data = in_flight_failure(&error);
                            pdu::timed(timeout, pdu::skip(&mut self.stream, length)).await?
                        }
                    }
                } else {
                    pdu::timed(timeout, pdu::skip(&mut self.stream, length)).await?
                }
                if item.is_last {
                    Ok(slot.take())
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// Decides, once the command is known, what to do with the data set that follows.
    fn prepare_data(&self, command: &Command, context: &AcceptedContext) -> Data {
        let refuse = |status, comment| Data::Discard {
            answer: Answer { status, comment },
        };
        if command.field != C_STORE_RQ {
            return refuse(status::UNRECOGNIZED_OPERATION, "operation not supported");
        }
        let (Some(class), Some(instance)) = (
            &command.affected_sop_class_uid,
            &command.affected_sop_instance_uid,
        ) else {
            return refuse(
                status::CANNOT_UNDERSTAND,
                "C-STORE request without Affected SOP Class or Instance UID",
            );
        };
        if *class != context.abstract_syntax || class == VERIFICATION_SOP_CLASS {
            return refuse(
                status::SOP_CLASS_NOT_SUPPORTED,
                "SOP class differs from the presentation context",
            );
        }
        match part10::file_prefix(
            class,
            instance,
            &context.transfer_syntax,
            &self.caller.calling_ae,
        ) {
            Ok(file) => Data::Collect {
                dataset_offset: file.len(),
                buffer: Buffer::new(&self.services.config.inflight, file, self.data_size_hint),
            },
            Err(_) => refuse(
                status::CANNOT_UNDERSTAND,
                "cannot build the file meta group",
            ),
        }
    }

    /// Answers one complete message.
    async fn dispatch(&mut self, message: Message) -> Result<(), ScpError> {
        let Some(command) = message.command else {
            return Err(ScpError::Protocol("message without command"));
        };
        if command.field == C_CANCEL_RQ {
            return Ok(());
        }
        if command.field & 0x8000 != 0 {
            return Err(ScpError::Protocol("DIMSE response sent to the SCP"));
        }
        let Some(message_id) = command.message_id else {
            return Err(ScpError::Protocol("request without Message ID"));
        };
        let class = command.affected_sop_class_uid.as_deref();
        let instance = command.affected_sop_instance_uid.as_deref();
        let mut response = Response {
            field: command.field | 0x8000,
            message_id,
            affected_sop_class_uid: class,
            affected_sop_instance_uid: instance,
            status: status::SUCCESS,
            error_comment: None,
        };
        let comment: String;
        match (command.field, message.data) {
            (C_ECHO_RQ, Data::None) => {
                response.field = C_ECHO_RSP;
                response.affected_sop_class_uid = Some(class.unwrap_or(VERIFICATION_SOP_CLASS));
            }
            (_, Data::Discard { answer }) => {
                response.status = answer.status;
                response.error_comment = Some(answer.comment);
            }
            (
                C_STORE_RQ,
                Data::Collect {
                    buffer,
                    dataset_offset,
                },
            ) => {
                let (Some(class), Some(instance)) = (class, instance) else {
                    return Err(ScpError::Protocol("C-STORE without UIDs"));
                };
                response.field = C_STORE_RSP;
                match self
                    .store(message.context_id, class, instance, buffer, dataset_offset)
                    .await
                {
                    Ok(code) => response.status = code,
                    Err(failure) => {
                        response.status = failure.status();
                        comment = failure.comment().to_string();
                        response.error_comment = Some(&comment);
                    }
                }
            }
            (C_STORE_RQ, Data::None) => {
                response.status = status::CANNOT_UNDERSTAND;
                response.error_comment = Some("C-STORE request without data set");
            }
            (_, _) => {
                response.status = status::UNRECOGNIZED_OPERATION;
                response.error_comment = Some("operation not supported");
            }
        }
        let bytes = response.encode();
        let timeout = self.services.config.read_timeout;
        for pdu in pdu::command_pdus(message.context_id, &bytes, self.peer_max_pdu_length) {
            pdu::write(&mut self.stream, &pdu, timeout).await?;
        }
        Ok(())
    }

    /// Checks a complete instance and hands it to the sink.
    async fn store(
        &mut self,
        context_id: u8,
        class: &str,
        instance: &str,
        buffer: Buffer,
        dataset_offset: usize,
    ) -> Result<u16, StoreFailure> {
        let spilled = buffer.is_spilled();
        // Held (in memory, charged to the budget) until the sink is done with it.
        let held = buffer.finish().map_err(|error| {
            tracing::warn!(peer = %self.caller.peer, code = error.code(), %error, "a received instance cannot be held");
            StoreFailure::out_of_resources(error.comment())
        })?;
        let file = held.bytes;
        let _charge = held.charge;
        part10::check_identity(&file, class, instance)?;
        let transfer_syntax_uid = self
            .contexts
            .get(&context_id)
            .map(|context| context.transfer_syntax.clone())
            .unwrap_or_default();
        let received = ReceivedInstance {
            sop_class_uid: class.to_string(),
            sop_instance_uid: instance.to_string(),
            transfer_syntax_uid,
            file,
            dataset_offset,
        };
        let size = received.dataset().len();
        // A spilled instance gives no hint: the next one starts small.
        self.data_size_hint = if spilled { 0 } else { size.min(MAX_SIZE_HINT) };
        let services = self.services.clone();
        match services.sink.store(&self.caller, received).await {
            Ok(outcome) => {
                self.stored += 1;
                tracing::debug!(peer = %self.caller.peer, size, status = outcome.status(), "instance stored");
                Ok(outcome.status())
            }
            Err(failure) => {
                tracing::warn!(peer = %self.caller.peer, size, code = failure.code(), %failure, "the sink refused an instance");
                Err(failure)
            }
        }
    }
}
