//! `renkei admin backup` and `restore`: a consistent copy of the embedded database, the media
//! and the keys while the server runs, with a manifest of SHA-256 sums that restore checks.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use renkei_core::clock::Timestamp;
use renkei_store::{Backend, Store};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;

/// The manifest's name inside a backup folder.
const MANIFEST: &str = "manifest.json";
/// The layout of backup folders this binary writes and reads.
const FORMAT: u32 = 1;
/// Where the database lives in a data folder (and in a backup).
const DATABASE: &str = "renkei.db";
/// The media store's folder in a data folder (object files and segment files).
const BLOBS: &str = "blobs";
/// The master keys' folder in a data folder.
const KEYS: &str = "keys";

/// What a backup holds, written last: a backup without it is incomplete.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    renkei_version: String,
    schema_version: i64,
    created_at: String,
    /// Whether the keys were written to a folder of their own (`--keys-to`).
    keys_apart: bool,
    files: Vec<Entry>,
}

/// One file of the data folder: its path there, size and SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    path: String,
    size: u64,
    sha256: String,
}

impl Entry {
    fn is_key(&self) -> bool {
        self.path.starts_with("keys/")
    }
}

/// Where a backup's files are: the folder, and the folder its keys are in.
struct Place {
    dir: PathBuf,
    keys: PathBuf,
}

impl Place {
    fn new(dir: &Path, keys: Option<&Path>) -> Place {
        Place {
            dir: dir.to_path_buf(),
            keys: keys.map_or_else(|| dir.join(KEYS), Path::to_path_buf),
        }
    }

    /// Where `entry` lives in the backup: keys in the keys folder, the rest under the folder.
    fn of(&self, entry: &Entry) -> PathBuf {
        match entry.path.strip_prefix("keys/") {
            Some(name) => self.keys.join(name),
            None => self.dir.join(&entry.path),
        }
    }
}

/// `renkei admin backup --to DIR [--keys-to KEYDIR]`.
pub async fn backup(
    store: &Store,
    config: &Config,
    to: &Path,
    keys_to: Option<&Path>,
) -> Result<(), String> {
    if store.backend() != Backend::Sqlite || config.object_store_url.is_some() {
        return Err(
            "this command backs up the embedded default (SQLite and media in the data \
             folder); on PostgreSQL and S3 follow docs/OPERATIONS.md, \"Backup and restore\" \
             (pg_dump or point-in-time recovery, bucket versioning, and the keys)"
                .into(),
        );
    }
    let keys_to = keys_to.filter(|k| !same_folder(k, to));
    create_empty_dir(to)?;
    if let Some(keys) = keys_to {
        create_empty_dir(keys)?;
    }
    let place = Place::new(to, keys_to);

    // 1. The database, first: `VACUUM INTO` copies one consistent snapshot while the server
    // goes on writing (WAL mode), and the backup's point is the moment it began.
    let snapshot = to.join(DATABASE);
    store
        .backup_to(&snapshot)
        .await
        .map_err(|e| format!("cannot copy the database: {e}"))?;
    let schema_version = store
        .applied_schema_version()
        .await
        .map_err(|e| e.to_string())?;
    let mut files = vec![entry_of(DATABASE, &snapshot)?];

    // 2. The media, after the snapshot. An acknowledged upload or instance was written (and
    // flushed) before it was acknowledged, so every object an acknowledged record of the
    // snapshot names is on disk by now and in this copy. Objects stored or deleted since make
    // the copy a superset: an object no record names is never read, and harmless. Segment
    // files may grow while read; each is copied whole as it is then, which holds every object
    // placed in it before the snapshot. A file removed meanwhile held only deleted objects and
    // is skipped. The one gap: a DICOM instance's record commits while its segment bytes are
    // written, so an instance still unacknowledged at the snapshot may be cut short in the
    // copy and read as corrupt, exactly as after a power cut at that moment.
    let blobs = config.data_dir.join(BLOBS);
    for relative in walk(&blobs)? {
        let path = format!("{BLOBS}/{relative}");
        if let Some(entry) = copy_entry(&path, &blobs.join(&relative), &to.join(&path))? {
            files.push(entry);
        }
    }

    // 3. The keys: without them the media cannot be read; beside the media they make the
    // backup as good as plaintext.
    let keys = config.data_dir.join(KEYS);
    for name in walk(&keys)? {
        let entry = Entry {
            path: format!("{KEYS}/{name}"),
            size: 0,
            sha256: String::new(),
        };
        if let Some(entry) = copy_entry(&entry.path, &keys.join(&name), &place.of(&entry))? {
            files.push(entry);
        }
    }

    let manifest = Manifest {
        format: FORMAT,
        renkei_version: env!("CARGO_PKG_VERSION").into(),
        schema_version,
        created_at: Timestamp::now().to_rfc3339(),
        keys_apart: keys_to.is_some(),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    let mut file = create_private_file(&to.join(MANIFEST))?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write the manifest: {e}"))?;

    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "backed up {} files ({bytes} bytes, schema {schema_version}) to {}",
        manifest.files.len(),
        to.display()
    );
    let key_count = manifest.files.iter().filter(|f| f.is_key()).count();
    if config.master_key.is_some() {
        eprintln!(
            "note: the master key is set in the configuration (master_key), not in the data \
             folder; keep a copy of it apart from this backup"
        );
    } else if key_count > 0 && keys_to.is_none() {
        eprintln!(
            "warning: the media keys are in {}, beside the media they open: anyone who holds \
             this backup can read every medium. Use --keys-to to keep them apart.",
            place.keys.display()
        );
    } else if let Some(keys) = keys_to {
        println!("keys written to {}", keys.display());
    }
    Ok(())
}

/// `renkei admin restore --from DIR [--keys-from KEYDIR]` into `data_dir`, which must be empty
/// or new. Every file is checked against the manifest before anything is written.
pub fn restore(from: &Path, keys_from: Option<&Path>, data_dir: &Path) -> Result<(), String> {
    let manifest_path = from.join(MANIFEST);
    let text = fs::read(&manifest_path).map_err(|e| {
        format!(
            "{}: {e} (not a complete backup: the manifest is written last)",
            manifest_path.display()
        )
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "backup format {} is not known to this renkei (it reads format {FORMAT})",
            manifest.format
        ));
    }
    if manifest.keys_apart && keys_from.is_none() && manifest.files.iter().any(Entry::is_key) {
        return Err(
            "this backup's keys were written apart (--keys-to); give their folder with \
             --keys-from"
                .into(),
        );
    }
    let place = Place::new(from, keys_from);

    // Decide: every file present and as the manifest says, the target empty.
    let problems: Vec<String> = manifest
        .files
        .iter()
        .filter_map(|entry| check(entry, &place.of(entry)).err())
        .collect();
    if !problems.is_empty() {
        return Err(format!(
            "the backup does not match its manifest; nothing was restored:\n  {}",
            problems.join("\n  ")
        ));
    }
    if fs::read_dir(data_dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!(
            "{} is not empty; restore only into a new or empty data folder",
            data_dir.display()
        ));
    }

    // Apply.
    create_private_dir(data_dir)?;
    for entry in &manifest.files {
        let target = data_dir.join(&entry.path);
        let copied = copy_entry(&entry.path, &place.of(entry), &target)?;
        if copied.is_none_or(|c| c.sha256 != entry.sha256) {
            return Err(format!("{} changed while it was restored", entry.path));
        }
    }
    println!(
        "restored {} files (schema {}, backed up {} by renkei {}) into {}",
        manifest.files.len(),
        manifest.schema_version,
        manifest.created_at,
        manifest.renkei_version,
        data_dir.display()
    );
    Ok(())
}

/// Whether the file at `path` is as `entry` says.
fn check(entry: &Entry, path: &Path) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (size, sha256) =
        hash_into(&mut file, &mut io::sink()).map_err(|e| format!("{}: {e}", path.display()))?;
    if size != entry.size || sha256 != entry.sha256 {
        return Err(format!(
            "{}: {size} bytes with SHA-256 {sha256}, expected {} bytes with {}",
            path.display(),
            entry.size,
            entry.sha256
        ));
    }
    Ok(())
}

/// The manifest entry of a file already written.
fn entry_of(path: &str, file: &Path) -> Result<Entry, String> {
    let mut source = File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (size, sha256) =
        hash_into(&mut source, &mut io::sink()).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(Entry {
        path: path.into(),
        size,
        sha256,
    })
}

/// Copies `source` to a new private file `target` (folders made private as needed), hashing
/// as it goes; None when `source` is gone (removed since it was listed).
fn copy_entry(path: &str, source: &Path, target: &Path) -> Result<Option<Entry>, String> {
    let mut input = match File::open(source) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", source.display())),
    };
    if let Some(parent) = target.parent() {
        create_private_dir(parent)?;
    }
    let mut output = create_private_file(target)?;
    let (size, sha256) = hash_into(&mut input, &mut output)
        .and_then(|hashed| output.sync_all().map(|()| hashed))
        .map_err(|e| format!("{} → {}: {e}", source.display(), target.display()))?;
    Ok(Some(Entry {
        path: path.into(),
        size,
        sha256,
    }))
}

/// Copies `input` into `output`; the bytes copied and their SHA-256 (hex).
fn hash_into(input: &mut impl Read, output: &mut impl Write) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        output.write_all(&buffer[..n])?;
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// The files under `root` (relative, `/`-separated, sorted), leaving out hidden files (an
/// interrupted write's `.name.partial`); none when `root` is missing.
fn walk(root: &Path) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(relative) = pending.pop() {
        let dir = root.join(&relative);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        };
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let path = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => found.push(path),
                _ => {}
            }
        }
    }
    found.sort();
    Ok(found)
}

fn same_folder(a: &Path, b: &Path) -> bool {
    a == b || matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// Creates `dir` (0700), which must be new or empty.
fn create_empty_dir(dir: &Path) -> Result<(), String> {
    if fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!(
            "{} is not empty; back up into a new or empty folder",
            dir.display()
        ));
    }
    create_private_dir(dir)?;
    #[cfg(unix)]
    fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .map_err(|e| format!("cannot make {} private: {e}", dir.display()))?;
    Ok(())
}

/// Creates `dir` and its parents, readable only by the owner.
fn create_private_dir(dir: &Path) -> Result<(), String> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// A new file readable only by the owner; never overwrites.
fn create_private_file(path: &Path) -> Result<File, String> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}
