//! The DICOM SCP end to end: dcmtk's `echoscu` and `storescu` against `scp::serve`, raw TCP
//! clients for what dcmtk will not send (garbage, truncated PDUs, peers vanishing mid-instance).
//! Tests needing dcmtk or pydicom's files say SKIPPED on stderr and pass when they are missing
//! (`apt-get install dcmtk`, `pip install pydicom`).

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_object::{DefaultDicomObject, open_file};
use dicom_ul::Pdu;
use dicom_ul::pdu::{
    AssociationRQ, PDataValue, PDataValueType, PresentationContextProposed, UserVariableItem,
};
use renkei_dicom::inflight::{InFlight, InFlightLimits};
use renkei_dicom::scp::config::{EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN};
use renkei_dicom::scp::negotiate::{APPLICATION_CONTEXT_NAME, VERIFICATION_SOP_CLASS};
use renkei_dicom::scp::{
    Caller, Gatekeeper, InstanceSink, ReceivedInstance, Rejection, ScpConfig, ScpError,
    StoreFailure, StoreFuture, StoreOutcome, may_block_here, pdu, serve,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const SOP_INSTANCE_UID: Tag = Tag(0x0008, 0x0018);
const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
const WAVEFORM_SEQUENCE: Tag = Tag(0x5400, 0x0100);
const WAVEFORM_DATA: Tag = Tag(0x5400, 0x1010);
const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
const TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Test gatekeeper and sink

/// Admits STORESCU and ECHOSCU from anywhere, refuses everyone else.
struct TestGatekeeper;

impl Gatekeeper for TestGatekeeper {
    fn admit(&self, calling_ae: &str, _called_ae: &str, peer: IpAddr) -> Result<Caller, Rejection> {
        match calling_ae {
            "STORESCU" | "ECHOSCU" => Ok(Caller {
                calling_ae: calling_ae.to_string(),
                peer,
                token: "org-test".to_string(),
            }),
            _ => Err(Rejection::UnknownCaller {
                reason: "not in the test list".to_string(),
            }),
        }
    }
}

/// Writes each instance to `<dir>/<SOP Instance UID>.dcm` (temporary file, then rename), or
/// fails with the failure it was told to.
struct FileSink {
    dir: PathBuf,
    fail_with: Mutex<Option<StoreFailure>>,
    stored: AtomicUsize,
    calls: AtomicUsize,
    sequence: AtomicU64,
    /// While set, each store blocks its thread (as de-identification and disk flushes do).
    hold: AtomicBool,
}

impl FileSink {
    fn stored(&self) -> usize {
        self.stored.load(Ordering::SeqCst)
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn path_of(&self, sop_instance_uid: &str) -> PathBuf {
        self.dir.join(format!("{sop_instance_uid}.dcm"))
    }

    fn hold(&self, hold: bool) {
        self.hold.store(hold, Ordering::SeqCst);
    }

    fn fail_with(&self, failure: Option<StoreFailure>) {
        *self.fail_with.lock().expect("lock") = failure;
    }

    /// Every file in the folder: what a partial store would leave behind too.
    fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(&self.dir)
            .expect("sink dir")
            .flatten()
            .map(|entry| entry.path())
            .collect();
        files.sort();
        files
    }
}

impl InstanceSink for FileSink {
    fn store<'a>(&'a self, caller: &'a Caller, instance: ReceivedInstance) -> StoreFuture<'a> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            assert_eq!(caller.token, "org-test");
            assert!(
                may_block_here(),
                "the sink runs on its association's thread"
            );
            while self.hold.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            if let Some(failure) = self.fail_with.lock().expect("lock").clone() {
                return Err(failure);
            }
            let uid = &instance.sop_instance_uid;
            if uid.is_empty() || !uid.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return Err(StoreFailure::cannot_understand("unusable SOP Instance UID"));
            }
            let n = self.sequence.fetch_add(1, Ordering::SeqCst);
            let partial = self.dir.join(format!(".partial-{n}"));
            let target = self.path_of(uid);
            let written = async {
                tokio::fs::write(&partial, &instance.file).await?;
                tokio::fs::rename(&partial, &target).await
            };
            match written.await {
                Ok(()) => {
                    self.stored.fetch_add(1, Ordering::SeqCst);
                    Ok(StoreOutcome::Stored)
                }
                Err(_) => Err(StoreFailure::out_of_resources("cannot write the file")),
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Running the SCP

/// A folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("renkei-scp-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Scp {
    addr: SocketAddr,
    sink: Arc<FileSink>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ScpError>>>,
    _dir: TempDir,
}

impl Scp {
    async fn start(config: ScpConfig) -> Scp {
        let dir = TempDir::new("sink");
        let sink = Arc::new(FileSink {
            dir: dir.path().to_path_buf(),
            fail_with: Mutex::new(None),
            stored: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            sequence: AtomicU64::new(0),
            hold: AtomicBool::new(false),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(
            listener,
            config,
            Arc::new(TestGatekeeper),
            sink.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        Scp {
            addr,
            sink,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    async fn default() -> Scp {
        Scp::start(ScpConfig::default()).await
    }

    fn port(&self) -> String {
        self.addr.port().to_string()
    }

    /// Asks the server to stop and checks that it does, cleanly.
    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let joined = tokio::time::timeout(TIMEOUT, task)
                .await
                .expect("the server stops");
            assert!(matches!(joined, Ok(Ok(()))), "serve ended with {joined:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// dcmtk and pydicom

/// Says SKIPPED on the real stderr (not captured by the test harness).
fn skipped(test: &str, why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

fn dcmtk_available(test: &str) -> bool {
    let found = std::process::Command::new("echoscu")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        skipped(test, "dcmtk is not installed (apt-get install dcmtk)");
    }
    found
}

fn pydicom_files(test: &str) -> Option<PathBuf> {
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import pydicom,os;print(os.path.join(os.path.dirname(pydicom.__file__),'data','test_files'))",
        ])
        .output();
    let dir = match output {
        Ok(out) if out.status.success() => {
            Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        }
        _ => None,
    }
    .filter(|dir| dir.join("CT_small.dcm").is_file());
    if dir.is_none() {
        skipped(test, "pydicom is not installed (pip install pydicom)");
    }
    dir
}

/// Runs a dcmtk tool with Nagle disabled, killed if it takes longer than [`TIMEOUT`].
async fn dcmtk(tool: &str, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(tool);
    command
        .args(args)
        .env("TCP_NODELAY", "1")
        .kill_on_drop(true);
    tokio::time::timeout(TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("{tool} did not finish within {TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{tool} cannot run: {e}"))
}

async fn echoscu(scp: &Scp, calling: &str, called: &str) -> Output {
    dcmtk(
        "echoscu",
        &["-aet", calling, "-aec", called, "127.0.0.1", &scp.port()],
    )
    .await
}

async fn storescu(scp: &Scp, files: &[PathBuf]) -> Output {
    storescu_proposing(scp, None, files).await
}

/// storescu proposes the uncompressed transfer syntaxes, plus the one `propose` option (`-xy`
/// for JPEG baseline, …) names: it must be told which compressed syntax its files are in.
async fn storescu_proposing(scp: &Scp, propose: Option<&str>, files: &[PathBuf]) -> Output {
    let port = scp.port();
    // -d: the log shows each response's status and Error Comment.
    let mut args = vec!["-d", "-aet", "STORESCU", "-aec", "RENKEI"];
    args.extend(propose);
    args.extend(["127.0.0.1", &port]);
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    dcmtk("storescu", &args).await
}

fn log_of(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn read_file(path: &Path) -> DefaultDicomObject {
    open_file(path).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

fn text(object: &DefaultDicomObject, tag: Tag) -> String {
    object
        .element(tag)
        .ok()
        .and_then(|e| e.value().to_str().ok())
        .map(|s| s.trim_matches(['\0', ' ']).to_string())
        .unwrap_or_default()
}

/// Copies of CT_small (or of a 512×512 version of it) with fresh SOP Instance UIDs.
fn generate_ct(source: &Path, dir: &Path, count: usize, large: bool) -> Vec<PathBuf> {
    let mut object = read_file(source);
    if large {
        let pixels: Vec<u8> = (0..512 * 512 * 2).map(|i| (i * 7 % 251) as u8).collect();
        object.put(DataElement::new(
            Tag(0x0028, 0x0010),
            VR::US,
            PrimitiveValue::from(512u16),
        ));
        object.put(DataElement::new(
            Tag(0x0028, 0x0011),
            VR::US,
            PrimitiveValue::from(512u16),
        ));
        object.put(DataElement::new(
            PIXEL_DATA,
            VR::OW,
            PrimitiveValue::from(pixels),
        ));
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let base = format!("2.25.{}{nanos}", std::process::id());
    (0..count)
        .map(|i| {
            let uid = format!("{base}.{}.{i}", u8::from(large));
            object.put(DataElement::new(
                SOP_INSTANCE_UID,
                VR::UI,
                PrimitiveValue::from(uid.as_str()),
            ));
            object.meta_mut().media_storage_sop_instance_uid = uid.clone();
            object.update_meta(|meta| meta.update_information_group_length());
            let path = dir.join(format!("ct-{i}.dcm"));
            object
                .write_to_file(&path)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            path
        })
        .collect()
}

/// The received copy of `original` parses, has its SOP Instance UID and the same pixel (or
/// waveform) data.
fn assert_arrived_intact(scp: &Scp, original: &Path) {
    let sent = read_file(original);
    let uid = text(&sent, SOP_INSTANCE_UID);
    let received_path = scp.sink.path_of(&uid);
    assert!(
        received_path.is_file(),
        "{} did not arrive",
        original.display()
    );
    let received = read_file(&received_path);
    assert_eq!(text(&received, SOP_INSTANCE_UID), uid);
    // Pixel Data, or each Waveform Data (5400,1010) of the Waveform Sequence (dcmtk may
    // re-encode sequence lengths, so the sequence itself is not compared).
    let payload = |object: &DefaultDicomObject| match object.element(PIXEL_DATA) {
        Ok(pixels) => Some(vec![pixels.value().clone()]),
        Err(_) => object.element(WAVEFORM_SEQUENCE).ok().and_then(|sequence| {
            sequence.items().map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.element(WAVEFORM_DATA).ok())
                    .map(|data| data.value().clone())
                    .collect()
            })
        }),
    };
    let sent_payload = payload(&sent);
    assert!(
        sent_payload
            .as_ref()
            .is_some_and(|values| !values.is_empty()),
        "{} has no payload",
        original.display()
    );
    assert_eq!(
        payload(&received),
        sent_payload,
        "payload of {} differs",
        original.display()
    );
}

// ---------------------------------------------------------------------------------------------
// Raw upper-layer client

fn encode(pdu: &Pdu) -> Vec<u8> {
    let mut bytes = Vec::new();
    dicom_ul::write_pdu(&mut bytes, pdu).expect("encodes");
    bytes
}

fn associate_rq(calling: &str, contexts: &[(u8, &str, &str)]) -> Pdu {
    Pdu::AssociationRQ(AssociationRQ {
        protocol_version: 1,
        calling_ae_title: calling.into(),
        called_ae_title: "RENKEI".into(),
        application_context_name: APPLICATION_CONTEXT_NAME.into(),
        presentation_contexts: contexts
            .iter()
            .map(|(id, abstract_syntax, ts)| PresentationContextProposed {
                id: *id,
                abstract_syntax: abstract_syntax.to_string(),
                transfer_syntaxes: vec![ts.to_string()],
            })
            .collect(),
        user_variables: vec![UserVariableItem::MaxLength(16_384)],
    })
}

/// Connects and associates as STORESCU with CT (context 1, explicit LE) and Verification (3).
async fn raw_association(scp: &Scp) -> TcpStream {
    let mut stream = TcpStream::connect(scp.addr).await.expect("connects");
    let request = associate_rq(
        "STORESCU",
        &[
            (1, CT_IMAGE_STORAGE, EXPLICIT_VR_LITTLE_ENDIAN),
            (3, VERIFICATION_SOP_CLASS, IMPLICIT_VR_LITTLE_ENDIAN),
        ],
    );
    stream.write_all(&encode(&request)).await.expect("sends");
    match pdu::timed(TIMEOUT, pdu::read(&mut stream, 1 << 20)).await {
        Ok(Pdu::AssociationAC(_)) => stream,
        other => panic!("expected A-ASSOCIATE-AC, got {other:?}"),
    }
}

fn element(out: &mut Vec<u8>, element: u16, value: &[u8]) {
    let mut value = value.to_vec();
    if value.len() % 2 == 1 {
        value.push(0);
    }
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(&value);
}

fn store_command(message_id: u16, instance: &str) -> Vec<u8> {
    let mut body = Vec::new();
    element(&mut body, 0x0002, CT_IMAGE_STORAGE.as_bytes());
    element(&mut body, 0x0100, &0x0001u16.to_le_bytes());
    element(&mut body, 0x0110, &message_id.to_le_bytes());
    element(&mut body, 0x0700, &0u16.to_le_bytes());
    element(&mut body, 0x0800, &0u16.to_le_bytes());
    element(&mut body, 0x1000, instance.as_bytes());
    let mut command = Vec::new();
    element(&mut command, 0x0000, &(body.len() as u32).to_le_bytes());
    command.extend(body);
    command
}

/// The data set of `file` in its own (explicit LE) transfer syntax, and its SOP Instance UID.
fn data_set_of(file: &Path) -> (Vec<u8>, String) {
    let object = read_file(file);
    let uid = text(&object, SOP_INSTANCE_UID);
    let mut bytes = Vec::new();
    object.write_dataset(&mut bytes).expect("writes");
    (bytes, uid)
}

fn pdata(context: u8, value_type: PDataValueType, is_last: bool, data: &[u8]) -> Vec<u8> {
    encode(&Pdu::PData {
        data: vec![PDataValue {
            presentation_context_id: context,
            value_type,
            is_last,
            data: data.to_vec(),
        }],
    })
}

/// A whole C-STORE on context 1: the command, then `data_set` in PDUs of 4000 bytes.
fn c_store(message_id: u16, uid: &str, data_set: &[u8]) -> Vec<u8> {
    let mut bytes = pdata(
        1,
        PDataValueType::Command,
        true,
        &store_command(message_id, uid),
    );
    for (index, chunk) in data_set.chunks(4000).enumerate() {
        let last = (index + 1) * 4000 >= data_set.len();
        bytes.extend(pdata(1, PDataValueType::Data, last, chunk));
    }
    bytes
}

/// Reads a C-STORE-RSP and returns its Status.
async fn read_status(stream: &mut TcpStream) -> u16 {
    let mut command = Vec::new();
    loop {
        match pdu::timed(TIMEOUT, pdu::read(stream, 1 << 20)).await {
            Ok(Pdu::PData { data }) => {
                for pdv in data {
                    command.extend(pdv.data);
                    if pdv.is_last {
                        return find_status(&command);
                    }
                }
            }
            other => panic!("expected a response, got {other:?}"),
        }
    }
}

fn find_status(command: &[u8]) -> u16 {
    let mut rest = command;
    while rest.len() >= 8 {
        let elem = u16::from_le_bytes([rest[2], rest[3]]);
        let len = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        if elem == 0x0900 {
            return u16::from_le_bytes([rest[8], rest[9]]);
        }
        rest = &rest[8 + len..];
    }
    panic!("no status in the response");
}

/// Releases the association (A-RELEASE-RQ, expecting A-RELEASE-RP).
async fn release(mut stream: TcpStream) {
    stream
        .write_all(&encode(&Pdu::ReleaseRQ))
        .await
        .expect("sends A-RELEASE-RQ");
    assert!(matches!(
        pdu::timed(TIMEOUT, pdu::read(&mut stream, 1 << 20)).await,
        Ok(Pdu::ReleaseRP)
    ));
}

/// Waits until the server closes `stream` (EOF or reset), ignoring any A-ABORT it sends.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// C-ECHO and association negotiation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoscu_succeeds_and_strangers_are_rejected() {
    if !dcmtk_available("echoscu_succeeds_and_strangers_are_rejected") {
        return;
    }
    let scp = Scp::default().await;
    let ok = echoscu(&scp, "ECHOSCU", "RENKEI").await;
    assert!(ok.status.success(), "echoscu failed: {}", log_of(&ok));

    let wrong_called = echoscu(&scp, "ECHOSCU", "NOT_RENKEI").await;
    assert!(!wrong_called.status.success());
    assert!(
        log_of(&wrong_called).contains("Called AE Title Not Recognized"),
        "{}",
        log_of(&wrong_called)
    );

    let stranger = echoscu(&scp, "INTRUDER", "RENKEI").await;
    assert!(!stranger.status.success());
    assert!(
        log_of(&stranger).contains("Calling AE Title Not Recognized"),
        "{}",
        log_of(&stranger)
    );
    assert_eq!(scp.sink.calls(), 0);
    scp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn associations_over_the_limit_are_rejected_transiently() {
    if !dcmtk_available("associations_over_the_limit_are_rejected_transiently") {
        return;
    }
    let scp = Scp::start(ScpConfig {
        max_associations: 1,
        ..ScpConfig::default()
    })
    .await;
    let holder = raw_association(&scp).await;
    let refused = echoscu(&scp, "ECHOSCU", "RENKEI").await;
    assert!(!refused.status.success());
    assert!(
        log_of(&refused).contains("Local Limit Exceeded"),
        "{}",
        log_of(&refused)
    );
    release(holder).await;
    // The slot is given back when the association task ends.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let again = echoscu(&scp, "ECHOSCU", "RENKEI").await;
        if again.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "slot never freed: {}",
            log_of(&again)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scp.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// C-STORE with storescu

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pydicom_files_arrive_complete() {
    let test = "pydicom_files_arrive_complete";
    if !dcmtk_available(test) {
        return;
    }
    let Some(data) = pydicom_files(test) else {
        return;
    };
    // Each file with the storescu option that proposes its transfer syntax.
    let cases: [(&str, Option<&str>); 14] = [
        ("CT_small.dcm", None),                         // explicit VR LE
        ("MR_small.dcm", None),                         // explicit VR LE
        ("MR_small_implicit.dcm", Some("-xi")),         // implicit VR LE
        ("SC_rgb_jpeg_dcmtk.dcm", Some("-xy")),         // JPEG baseline
        ("JPGExtended.dcm", Some("-xx")),               // JPEG extended
        ("SC_rgb_jpeg_gdcm.dcm", Some("-xs")),          // JPEG lossless SV1
        ("MR_small_jpeg_ls_lossless.dcm", Some("-xt")), // JPEG-LS lossless
        ("JPEGLSNearLossless_16.dcm", Some("-xu")),     // JPEG-LS near-lossless
        ("MR_small_jp2klossless.dcm", Some("-xv")),     // JPEG 2000 lossless
        ("JPEG2000.dcm", Some("-xw")),                  // JPEG 2000
        ("MR_small_RLE.dcm", Some("-xr")),              // RLE lossless
        ("image_dfl.dcm", Some("-xd")),                 // deflated explicit VR LE
        ("waveform_ecg.dcm", None),                     // 12-lead ECG
        ("examples_ybr_color.dcm", Some("-xy")),        // 30-frame ultrasound, JPEG baseline
    ];
    let scp = Scp::default().await;
    for (name, propose) in cases {
        let file = data.join(name);
        let output = storescu_proposing(&scp, propose, std::slice::from_ref(&file)).await;
        assert!(
            output.status.success(),
            "storescu {name} failed: {}",
            log_of(&output)
        );
        assert!(
            log_of(&output).contains("DIMSE Status                  : 0x0000: Success"),
            "{name}: {}",
            log_of(&output)
        );
        assert_arrived_intact(&scp, &file);
    }
    assert_eq!(scp.sink.stored(), cases.len());
    // The transfer syntax of compressed files is kept (nothing transcoded).
    let ultrasound = read_file(&data.join("examples_ybr_color.dcm"));
    let received = read_file(&scp.sink.path_of(&text(&ultrasound, SOP_INSTANCE_UID)));
    assert_eq!(
        received.meta().transfer_syntax(),
        ultrasound.meta().transfer_syntax()
    );
    scp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_instances_on_one_association_and_four_senders_at_once() {
    let test = "fifty_instances_on_one_association_and_four_senders_at_once";
    if !dcmtk_available(test) {
        return;
    }
    let Some(data) = pydicom_files(test) else {
        return;
    };
    let generated = TempDir::new("fifty");
    let files = generate_ct(&data.join("CT_small.dcm"), generated.path(), 50, false);
    let scp = Scp::default().await;

    let output = storescu(&scp, &files).await;
    assert!(
        output.status.success(),
        "storescu failed: {}",
        log_of(&output)
    );
    assert_eq!(scp.sink.stored(), 50);
    for file in &files {
        assert_arrived_intact(&scp, file);
    }

    // Four processes at once, each with its own share (the same instances again: the sink
    // overwrites, so count calls).
    let calls_before = scp.sink.calls();
    let shares: Vec<Vec<PathBuf>> = files.chunks(13).map(<[PathBuf]>::to_vec).collect();
    assert_eq!(shares.len(), 4);
    let (a, b, c, d) = tokio::join!(
        storescu(&scp, &shares[0]),
        storescu(&scp, &shares[1]),
        storescu(&scp, &shares[2]),
        storescu(&scp, &shares[3]),
    );
    for output in [a, b, c, d] {
        assert!(
            output.status.success(),
            "storescu failed: {}",
            log_of(&output)
        );
    }
    assert_eq!(scp.sink.calls() - calls_before, 50);
    assert_eq!(
        scp.sink.files().len(),
        50,
        "one file per instance, no partial file"
    );
    scp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_failures_reach_storescu_with_their_status() {
    let test = "sink_failures_reach_storescu_with_their_status";
    if !dcmtk_available(test) {
        return;
    }
    let Some(data) = pydicom_files(test) else {
        return;
    };
    let scp = Scp::default().await;
    let file = data.join("CT_small.dcm");
    let cases = [
        (StoreFailure::out_of_resources("quota exceeded"), "0xa700"),
        (
            StoreFailure::does_not_match("not what the class requires"),
            "0xa900",
        ),
        (StoreFailure::cannot_understand("cannot parse"), "0xc000"),
    ];
    for (failure, code) in cases {
        scp.sink.fail_with(Some(failure.clone()));
        let output = storescu(&scp, std::slice::from_ref(&file)).await;
        let log = log_of(&output).to_lowercase();
        assert!(log.contains(code), "no {code} in: {log}");
        assert!(
            log.contains(&failure.comment().to_lowercase()),
            "no Error Comment in: {log}"
        );
        assert!(scp.sink.files().is_empty(), "something was stored");
    }
    scp.sink.fail_with(None);
    let output = storescu(&scp, std::slice::from_ref(&file)).await;
    assert!(output.status.success(), "{}", log_of(&output));
    assert_eq!(scp.sink.stored(), 1);
    scp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_blocking_its_thread_holds_up_its_own_association_only() {
    let test = "a_sink_blocking_its_thread_holds_up_its_own_association_only";
    if !dcmtk_available(test) {
        return;
    }
    let Some(data) = pydicom_files(test) else {
        return;
    };
    let scp = Scp::default().await;
    let files = [data.join("CT_small.dcm")];
    scp.sink.hold(true);
    // Three senders, each blocked in the sink: more than the server's runtime has workers.
    let senders = async {
        tokio::join!(
            storescu(&scp, &files),
            storescu(&scp, &files),
            storescu(&scp, &files)
        )
    };
    let meanwhile = async {
        let deadline = Instant::now() + TIMEOUT;
        while scp.sink.calls() < 3 {
            assert!(
                Instant::now() < deadline,
                "the senders never reached the sink"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let echo = echoscu(&scp, "ECHOSCU", "RENKEI").await;
        assert_eq!(scp.sink.stored(), 0, "the senders are still held");
        scp.sink.hold(false);
        echo
    };
    let ((first, second, third), echo) = tokio::join!(senders, meanwhile);
    assert!(
        echo.status.success(),
        "echo while others block: {}",
        log_of(&echo)
    );
    for output in [first, second, third] {
        assert!(output.status.success(), "{}", log_of(&output));
    }
    assert_eq!(scp.sink.stored(), 3);
    scp.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Misbehaving peers (raw clients)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_truncated_pdus_close_the_connection_only() {
    let scp = Scp::start(ScpConfig {
        read_timeout: Duration::from_secs(2),
        ..ScpConfig::default()
    })
    .await;

    // Not DICOM at all.
    let mut garbage = TcpStream::connect(scp.addr).await.expect("connects");
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: renkei\r\n\r\n")
        .await
        .expect("sends");
    assert!(closed_by_server(&mut garbage, Duration::from_secs(10)).await);

    // A PDU announcing 4 GiB.
    let mut huge = TcpStream::connect(scp.addr).await.expect("connects");
    huge.write_all(&[0x01, 0, 0xff, 0xff, 0xff, 0xff, 0, 1])
        .await
        .expect("sends");
    assert!(closed_by_server(&mut huge, Duration::from_secs(10)).await);

    // A truncated A-ASSOCIATE-RQ, then silence: the read timeout ends it.
    let request = encode(&associate_rq(
        "STORESCU",
        &[(1, CT_IMAGE_STORAGE, EXPLICIT_VR_LITTLE_ENDIAN)],
    ));
    let mut truncated = TcpStream::connect(scp.addr).await.expect("connects");
    truncated
        .write_all(&request[..request.len() / 2])
        .await
        .expect("sends");
    assert!(closed_by_server(&mut truncated, Duration::from_secs(10)).await);

    // A truncated A-ASSOCIATE-RQ, then the peer closes its side.
    let mut half_closed = TcpStream::connect(scp.addr).await.expect("connects");
    half_closed.write_all(&request[..40]).await.expect("sends");
    half_closed.shutdown().await.expect("half-close");
    assert!(closed_by_server(&mut half_closed, Duration::from_secs(10)).await);

    // A malformed PDU inside an association: a P-DATA whose item overruns it.
    let mut inside = raw_association(&scp).await;
    inside
        .write_all(&[0x04, 0, 0, 0, 0, 8, 0, 0, 0, 200, 1, 0x03, 1, 2])
        .await
        .expect("sends");
    assert!(closed_by_server(&mut inside, Duration::from_secs(10)).await);

    // The server carries on.
    if dcmtk_available("garbage_and_truncated_pdus_close_the_connection_only (echoscu part)") {
        let ok = echoscu(&scp, "ECHOSCU", "RENKEI").await;
        assert!(ok.status.success(), "{}", log_of(&ok));
    } else {
        drop(raw_association(&scp).await);
    }
    assert_eq!(scp.sink.calls(), 0);
    scp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_vanishing_mid_instance_stores_nothing() {
    let Some(data) = pydicom_files("a_peer_vanishing_mid_instance_stores_nothing") else {
        return;
    };
    let scp = Scp::default().await;
    let (data_set, uid) = data_set_of(&data.join("CT_small.dcm"));

    // The command, then half of the data set, then the socket is dropped.
    let mut stream = raw_association(&scp).await;
    stream
        .write_all(&pdata(
            1,
            PDataValueType::Command,
            true,
            &store_command(1, &uid),
        ))
        .await
        .expect("sends");
    let half = data_set.len() / 2;
    stream
        .write_all(&pdata(1, PDataValueType::Data, false, &data_set[..half]))
        .await
        .expect("sends");
    // And a P-DATA cut in its middle.
    let next = pdata(1, PDataValueType::Data, true, &data_set[half..]);
    stream
        .write_all(&next[..next.len() / 2])
        .await
        .expect("sends");
    drop(stream);

    // A complete store on a new association still works, and is the only thing stored.
    let mut stream = raw_association(&scp).await;
    stream
        .write_all(&c_store(2, &uid, &data_set))
        .await
        .expect("sends");
    assert_eq!(read_status(&mut stream).await, 0x0000);
    release(stream).await;
    assert_eq!(scp.sink.calls(), 1, "the sink saw the partial instance");
    assert_eq!(scp.sink.files().len(), 1);
    assert_arrived_intact(&scp, &data.join("CT_small.dcm"));
    scp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_set_not_matching_its_request_is_refused() {
    let Some(data) = pydicom_files("a_data_set_not_matching_its_request_is_refused") else {
        return;
    };
    let scp = Scp::default().await;
    let (data_set, _) = data_set_of(&data.join("CT_small.dcm"));
    let mut stream = raw_association(&scp).await;

    // The request names another instance than the data set holds.
    stream
        .write_all(&pdata(
            1,
            PDataValueType::Command,
            true,
            &store_command(1, "1.2.3.4"),
        ))
        .await
        .expect("sends");
    stream
        .write_all(&pdata(1, PDataValueType::Data, true, &data_set))
        .await
        .expect("sends");
    assert_eq!(read_status(&mut stream).await, 0xA900);

    // A data set whose first element claims more bytes than there are.
    let mut garbage = vec![0x08, 0x00, 0x05, 0x00, b'C', b'S', 0xF0, 0xFF];
    garbage.extend([b'x'; 56]);
    stream
        .write_all(&pdata(
            1,
            PDataValueType::Command,
            true,
            &store_command(2, "1.2.3.4"),
        ))
        .await
        .expect("sends");
    stream
        .write_all(&pdata(1, PDataValueType::Data, true, &garbage))
        .await
        .expect("sends");
    assert_eq!(read_status(&mut stream).await, 0xC000);

    // Larger than the size limit would be 0xA700; an unknown operation gets 0x0211.
    let mut find = store_command(3, "1.2.3.4");
    let field_at = find
        .windows(4)
        .position(|w| w == [0x00, 0x00, 0x00, 0x01])
        .expect("command field")
        + 8;
    find[field_at..field_at + 2].copy_from_slice(&0x0020u16.to_le_bytes());
    stream
        .write_all(&pdata(1, PDataValueType::Command, true, &find))
        .await
        .expect("sends");
    stream
        .write_all(&pdata(1, PDataValueType::Data, true, &data_set[..64]))
        .await
        .expect("sends");
    assert_eq!(read_status(&mut stream).await, 0x0211);
    release(stream).await;

    assert_eq!(scp.sink.calls(), 0);
    scp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_over_the_size_limit_are_refused_out_of_resources() {
    let Some(data) = pydicom_files("instances_over_the_size_limit_are_refused_out_of_resources")
    else {
        return;
    };
    let scp = Scp::start(ScpConfig {
        max_instance_size: 10_000,
        ..ScpConfig::default()
    })
    .await;
    let (data_set, uid) = data_set_of(&data.join("CT_small.dcm"));
    assert!(data_set.len() > 10_000);
    let mut stream = raw_association(&scp).await;
    stream
        .write_all(&c_store(1, &uid, &data_set))
        .await
        .expect("sends");
    assert_eq!(read_status(&mut stream).await, 0xA700);
    release(stream).await;
    assert_eq!(scp.sink.calls(), 0);
    scp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_aborts_idle_associations_after_the_grace_period() {
    let scp = Scp::start(ScpConfig {
        shutdown_grace: Duration::from_millis(200),
        ..ScpConfig::default()
    })
    .await;
    let mut idle = raw_association(&scp).await;
    let started = Instant::now();
    scp.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(10));
    match pdu::timed(TIMEOUT, pdu::read(&mut idle, 1 << 20)).await {
        Ok(Pdu::AbortRQ { .. }) | Err(_) => {}
        other => panic!("expected an abort, got {other:?}"),
    }
}

/// storescu as a benchmark runs it: same options for both SCPs, no debug log.
async fn plain_storescu(port: u16, files: &[PathBuf]) -> Output {
    let port = port.to_string();
    let mut args = vec!["-aet", "STORESCU", "-aec", "RENKEI", "127.0.0.1", &port];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    dcmtk("storescu", &args).await
}

/// Not a test of correctness: `cargo test --release --test scp -- --ignored --nocapture bench`
/// times 300 512×512×16-bit CT instances through storescu, to this SCP and to dcmtk's storescp.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run on demand"]
async fn bench_300_ct_instances_against_dcmtk_storescp() {
    let test = "bench_300_ct_instances_against_dcmtk_storescp";
    if !dcmtk_available(test) {
        return;
    }
    let Some(data) = pydicom_files(test) else {
        return;
    };
    let generated = TempDir::new("bench-files");
    let files = generate_ct(&data.join("CT_small.dcm"), generated.path(), 300, true);
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..3 {
        let scp = Scp::default().await;
        let started = Instant::now();
        let output = plain_storescu(scp.addr.port(), &files).await;
        ours.push(started.elapsed());
        assert!(output.status.success(), "{}", log_of(&output));
        assert_eq!(scp.sink.stored(), 300);
        scp.shutdown().await;

        let out_dir = TempDir::new("bench-storescp");
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            probe.local_addr().expect("address").port()
        };
        let mut storescp = tokio::process::Command::new("storescp")
            .args(["-aet", "RENKEI", "-od"])
            .arg(out_dir.path())
            .args(["+xa", "-pdu", "131072", &port.to_string()])
            .env("TCP_NODELAY", "1")
            .kill_on_drop(true)
            .spawn()
            .expect("storescp starts");
        let deadline = Instant::now() + TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "storescp never listened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let started = Instant::now();
        let output = plain_storescu(port, &files).await;
        theirs.push(started.elapsed());
        assert!(output.status.success(), "{}", log_of(&output));
        let _ = storescp.kill().await;
        let stored = std::fs::read_dir(out_dir.path())
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(stored, 300);
    }
    let _ = writeln!(
        std::io::stderr(),
        "BENCH 300 CT instances ({:.1} MiB): renkei SCP {:?}, dcmtk storescp {:?}",
        total as f64 / 1048576.0,
        ours,
        theirs
    );
}

#[test]
fn received_instances_parse_with_dicom_object() {
    // ReceivedInstance::to_object reads the Part 10 bytes the SCP builds.
    let mut file = renkei_dicom::scp::part10::file_prefix(
        CT_IMAGE_STORAGE,
        "1.2.3.4",
        EXPLICIT_VR_LITTLE_ENDIAN,
        "STORESCU",
    )
    .expect("prefix");
    let dataset_offset = file.len();
    for (tag, value) in [
        (Tag(0x0008, 0x0016), CT_IMAGE_STORAGE),
        (SOP_INSTANCE_UID, "1.2.3.4"),
    ] {
        let mut value = value.as_bytes().to_vec();
        if value.len() % 2 == 1 {
            value.push(0);
        }
        file.extend_from_slice(&tag.group().to_le_bytes());
        file.extend_from_slice(&tag.element().to_le_bytes());
        file.extend_from_slice(b"UI");
        file.extend_from_slice(&(value.len() as u16).to_le_bytes());
        file.extend_from_slice(&value);
    }
    let instance = ReceivedInstance {
        sop_class_uid: CT_IMAGE_STORAGE.into(),
        sop_instance_uid: "1.2.3.4".into(),
        transfer_syntax_uid: EXPLICIT_VR_LITTLE_ENDIAN.into(),
        file,
        dataset_offset,
    };
    let object = instance.to_object().expect("parses");
    assert_eq!(text(&object, SOP_INSTANCE_UID), "1.2.3.4");
    assert_eq!(
        object.meta().implementation_class_uid(),
        renkei_dicom::scp::negotiate::IMPLEMENTATION_CLASS_UID
    );
    assert_eq!(
        object.meta().source_application_entity_title(),
        Some("STORESCU")
    );
}

// ---------------------------------------------------------------------------------------------
// Data in flight: the memory budget and sealed spill files

/// An SCP whose data in flight has `memory_budget` bytes of memory and spills instances above
/// `spill_threshold` into `spill`; instances up to `max_instance_size`.
async fn scp_with_budget(
    spill: &TempDir,
    memory_budget: u64,
    spill_threshold: u64,
    max_instance_size: u64,
) -> (Scp, Arc<InFlight>) {
    let limits = InFlightLimits {
        memory_budget,
        spill_threshold,
        disk_budget: 1 << 30,
    };
    let inflight = InFlight::new(&limits, spill.path()).expect("spill folder");
    let scp = Scp::start(ScpConfig {
        max_instance_size,
        inflight: inflight.clone(),
        ..ScpConfig::default()
    })
    .await;
    (scp, inflight)
}

/// The spill files in `dir`, with their bytes.
fn spill_files(dir: &TempDir) -> Vec<Vec<u8>> {
    std::fs::read_dir(dir.path())
        .expect("spill dir")
        .flatten()
        .map(|entry| std::fs::read(entry.path()).unwrap_or_default())
        .collect()
}

/// Waits (up to a minute) until `done` holds; false if it never did.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

/// This process's resident memory, from /proc (Linux).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// A plaintext marker filling the pixel data, to look for on disk.
const MARKER: &[u8; 16] = b"RENKEI-PLAINTEXT";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_instances_on_four_associations_stay_within_the_memory_budget() {
    let spill = TempDir::new("spill-four");
    // 64 MiB of memory for everything in flight; instances above 1 MiB go to disk.
    let (scp, inflight) = scp_with_budget(&spill, 64 << 20, 1 << 20, 64 << 20).await;
    let before = resident_bytes();
    // Each association: a C-STORE whose Pixel Data claims 400 MB, 32 MiB of it sent, never
    // finished: 128 MiB in flight, twice the memory budget.
    let mut head = Vec::new();
    let mut explicit = |group: u16, elem: u16, vr: &[u8; 2], value: &[u8]| {
        head.extend_from_slice(&group.to_le_bytes());
        head.extend_from_slice(&elem.to_le_bytes());
        head.extend_from_slice(vr);
        head.extend_from_slice(&(value.len() as u16).to_le_bytes());
        head.extend_from_slice(value);
    };
    explicit(0x0008, 0x0016, b"UI", b"1.2.840.10008.5.1.4.1.1.2\0");
    explicit(0x0008, 0x0018, b"UI", b"1.2.3.4\0");
    head.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0]);
    head.extend_from_slice(&400_000_000u32.to_le_bytes());
    let fragment: Vec<u8> = MARKER.iter().copied().cycle().take(12 * 1024).collect();
    let sent_each: u64 = 32 << 20;
    let mut streams = Vec::new();
    for _ in 0..4 {
        let mut stream = raw_association(&scp).await;
        stream
            .write_all(&pdata(
                1,
                PDataValueType::Command,
                true,
                &store_command(1, "1.2.3.4"),
            ))
            .await
            .expect("sends");
        stream
            .write_all(&pdata(1, PDataValueType::Data, false, &head))
            .await
            .expect("sends");
        streams.push(stream);
    }
    for _ in 0..sent_each / fragment.len() as u64 {
        for stream in &mut streams {
            stream
                .write_all(&pdata(1, PDataValueType::Data, false, &fragment))
                .await
                .expect("sends");
        }
    }
    // Everything sent is with the server: on disk but for less than a sealed chunk each.
    let on_disk = 4 * (sent_each - (512 << 10));
    assert!(
        eventually(|| inflight.disk().used() >= on_disk).await,
        "spilled {} of {on_disk} bytes",
        inflight.disk().used()
    );
    let in_memory = inflight.memory().used();
    assert!(
        in_memory <= 4 * ((1 << 20) + 4096),
        "{in_memory} bytes in memory for 128 MiB in flight"
    );
    let grown = resident_bytes().saturating_sub(before);
    assert!(
        grown < 24 << 20,
        "resident memory grew by {grown} bytes with 128 MiB in flight"
    );
    let files = spill_files(&spill);
    assert_eq!(files.len(), 4, "one spill file per association");
    for file in &files {
        assert!(file.len() as u64 >= sent_each - (2 << 20));
        assert!(
            !file[..1 << 20].windows(MARKER.len()).any(|w| w == MARKER),
            "plaintext in a spill file"
        );
    }
    // The senders vanish: their spill files and charges go.
    drop(streams);
    assert!(
        eventually(|| spill_files(&spill).is_empty()
            && inflight.disk().used() == 0
            && inflight.memory().used() == 0)
        .await,
        "left: {} spill files, {} bytes charged",
        spill_files(&spill).len(),
        inflight.memory().used()
    );
    assert_eq!(scp.sink.calls(), 0);
    scp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_above_the_spill_threshold_arrives_intact_and_its_sealed_file_goes() {
    let Some(data) = pydicom_files("an_instance_above_the_spill_threshold_arrives_intact") else {
        return;
    };
    let spill = TempDir::new("spill-one");
    let (scp, inflight) = scp_with_budget(&spill, 64 << 20, 64 << 10, 64 << 20).await;
    let files_dir = TempDir::new("large-ct");
    let large = generate_ct(&data.join("CT_small.dcm"), files_dir.path(), 1, true);
    let (data_set, uid) = data_set_of(&large[0]);
    assert!(data_set.len() > 512 << 10);
    let mut stream = raw_association(&scp).await;
    stream
        .write_all(&pdata(
            1,
            PDataValueType::Command,
            true,
            &store_command(1, &uid),
        ))
        .await
        .expect("sends");
    let chunks: Vec<&[u8]> = data_set.chunks(8000).collect();
    let (first, rest) = chunks.split_at(chunks.len() * 3 / 4);
    for chunk in first {
        stream
            .write_all(&pdata(1, PDataValueType::Data, false, chunk))
            .await
            .expect("sends");
    }
    // Mid-instance, on disk and sealed: no run of the pixel data is in the file.
    assert!(eventually(|| inflight.disk().used() > 256 << 10).await);
    let files = spill_files(&spill);
    assert_eq!(files.len(), 1);
    let pixels = &data_set[data_set.len() - (512 << 10)..];
    for probe in pixels.chunks(64).take(64) {
        assert!(
            !files[0].windows(probe.len()).any(|w| w == probe),
            "pixel data in plaintext on disk"
        );
    }
    for (index, chunk) in rest.iter().enumerate() {
        let last = index + 1 == rest.len();
        stream
            .write_all(&pdata(1, PDataValueType::Data, last, chunk))
            .await
            .expect("sends");
    }
    assert_eq!(read_status(&mut stream).await, 0x0000);
    release(stream).await;
    assert_arrived_intact(&scp, &large[0]);
    assert!(spill_files(&spill).is_empty(), "the spill file was removed");
    assert_eq!(inflight.disk().used(), 0);
    assert_eq!(inflight.memory().used(), 0);
    scp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_memory_budget_answers_out_of_resources_and_a_retry_succeeds() {
    let Some(data) = pydicom_files("a_spent_memory_budget_answers_out_of_resources") else {
        return;
    };
    let spill = TempDir::new("spill-spent");
    let (scp, inflight) = scp_with_budget(&spill, 60_000, 1 << 20, 60_000).await;
    let (data_set, uid) = data_set_of(&data.join("CT_small.dcm"));
    let send = |message_id: u16| c_store(message_id, &uid, &data_set);
    // The first instance is held by a slow sink, with its memory.
    scp.sink.hold(true);
    let mut first = raw_association(&scp).await;
    let bytes = send(1);
    first.write_all(&bytes).await.expect("sends");
    assert!(eventually(|| scp.sink.calls() == 1).await);
    assert!(inflight.memory().used() >= data_set.len() as u64);
    // The second finds no room: 0xA700, which a PACS retries later.
    let mut second = raw_association(&scp).await;
    let bytes = send(1);
    second.write_all(&bytes).await.expect("sends");
    assert_eq!(read_status(&mut second).await, 0xA700);
    scp.sink.hold(false);
    assert_eq!(read_status(&mut first).await, 0x0000);
    let bytes = send(2);
    second.write_all(&bytes).await.expect("sends");
    assert_eq!(read_status(&mut second).await, 0x0000);
    release(first).await;
    release(second).await;
    assert_eq!(inflight.memory().used(), 0);
    assert!(spill_files(&spill).is_empty());
    scp.shutdown().await;
}
