//! The blob store: objects in a local folder (or any `object_store` backend), each encrypted
//! with its own data key, streamed in and out in chunks so memory does not grow with size.

mod cipher;
mod direct;
mod in_place;
pub mod keyring;
mod local;
mod segments;

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};

use cipher::{CHUNK, ChunkCipher, HEADER, TAG};
use in_place::SealedInPlace;
pub use keyring::{KeyRing, WrappedKey};
use segments::{Place, Segments};

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no such object")]
    NotFound,
    /// The upload passed the limit; nothing was kept.
    #[error("larger than the limit of {0} bytes")]
    TooLarge(u64),
    /// The source failed midway (e.g. the client hung up); nothing was kept.
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// The stored bytes do not authenticate: altered, truncated, or the wrong key.
    #[error("stored object is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Crypto(String),
    #[error("{0}")]
    Io(String),
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
}

/// What was stored: its plaintext size and its sealed data key (to keep in the database).
#[derive(Debug, Clone)]
pub struct StoredBlob {
    pub size: u64,
    pub key: WrappedKey,
}

/// Encrypted object storage.
#[derive(Clone)]
pub struct BlobStore {
    objects: Arc<dyn ObjectStore>,
    keys: Arc<KeyRing>,
    /// The folder of a local store, where whole objects are written directly and durably.
    local_dir: Option<Arc<PathBuf>>,
    /// A local store's segment files, where small objects written whole go.
    segments: Option<Arc<Segments>>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("objects", &self.objects.to_string())
            .finish()
    }
}

/// The folder (key prefix) of every object.
const OBJECT_FOLDER: &str = "blobs";

fn path_of(id: &str) -> Path {
    Path::from(format!("{OBJECT_FOLDER}/{id}"))
}

/// Bytes written to the backend per part.
const PART: usize = 4 * 1024 * 1024;

impl BlobStore {
    /// A store over `objects`, sealing data keys with `keys`.
    pub fn new(objects: Arc<dyn ObjectStore>, keys: KeyRing) -> BlobStore {
        BlobStore {
            objects,
            keys: Arc::new(keys),
            local_dir: None,
            segments: None,
        }
    }

    /// A store in a local folder.
    pub fn local(dir: &std::path::Path, keys: KeyRing) -> Result<BlobStore, BlobError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BlobError::Io(format!("{}: {e}", dir.display())))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        let dir =
            fs::canonicalize(dir).map_err(|e| BlobError::Io(format!("{}: {e}", dir.display())))?;
        let swept = local::sweep_partials(&dir.join(OBJECT_FOLDER));
        if swept > 0 {
            tracing::info!(
                swept,
                "removed the temporary files of interrupted object writes"
            );
        }
        let segments = Segments::open(&dir.join("segments"))?;
        Ok(BlobStore {
            local_dir: Some(Arc::new(dir)),
            segments: Some(segments),
            ..BlobStore::new(Arc::new(fs), keys)
        })
    }

    /// A store in an S3-compatible bucket, `s3://bucket[/prefix]`; credentials, region and
    /// endpoint come from the usual `AWS_*` environment variables (`AWS_ENDPOINT` and
    /// `AWS_ALLOW_HTTP=true` for a local S3-compatible server).
    pub fn s3(url: &str, keys: KeyRing) -> Result<BlobStore, BlobError> {
        let (bucket_url, prefix) = match url
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
        {
            Some((bucket, prefix)) => (
                format!("s3://{bucket}"),
                prefix.trim_matches('/').to_owned(),
            ),
            None => (url.to_owned(), String::new()),
        };
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_url(bucket_url)
            .build()?;
        let objects: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str()))
        };
        Ok(BlobStore::new(objects, keys))
    }

    /// Encrypts and stores `source` as object `id`, refusing it (and keeping nothing) past
    /// `max_bytes` or if the source fails.
    pub async fn put<S, E>(
        &self,
        id: &str,
        source: S,
        max_bytes: u64,
    ) -> Result<StoredBlob, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let data_key = KeyRing::new_data_key()?;
        let size = self.put_with_key(id, &data_key, source, max_bytes).await?;
        let key = self.keys.wrap(&data_key, id)?;
        Ok(StoredBlob { size, key })
    }

    /// [`BlobStore::put`] under a given data key; returns the plaintext size.
    async fn put_with_key<S, E>(
        &self,
        id: &str,
        data_key: &keyring::DataKey,
        mut source: S,
        max_bytes: u64,
    ) -> Result<u64, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let (cipher, header) = ChunkCipher::for_writing(data_key, id)?;
        let upload = self.objects.put_multipart(&path_of(id)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        writer.write(&header);
        let mut pending = BytesMut::with_capacity(CHUNK);
        let mut index = 0u32;
        let mut size = 0u64;
        let outcome: Result<(), BlobError> = async {
            while let Some(piece) = source.next().await {
                let piece = piece.map_err(|e| BlobError::Interrupted(e.to_string()))?;
                size += piece.len() as u64;
                if size > max_bytes {
                    return Err(BlobError::TooLarge(max_bytes));
                }
                let mut rest = &piece[..];
                while !rest.is_empty() {
                    if pending.len() == CHUNK {
                        // More is coming, so this full chunk is not the last.
                        writer.write(&cipher.seal(index, false, &pending)?);
                        writer.wait_for_capacity(2).await?;
                        index += 1;
                        pending.clear();
                    }
                    let take = (CHUNK - pending.len()).min(rest.len());
                    pending.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                }
            }
            writer.write(&cipher.seal(index, true, &pending)?);
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer.finish().await?;
        Ok(size)
    }

    /// The id for a new object of `plain_len` bytes to be stored whole with
    /// [`BlobStore::put_sealed_bytes`]: in a local store, a place reserved in a segment file
    /// (`stem@segment.offset.length`) when one has room, else `stem` itself.
    pub fn reserve_object_id(&self, stem: &str, plain_len: usize) -> String {
        self.segments
            .as_ref()
            .and_then(|segments| segments.reserve(sealed_len(plain_len) as u64))
            .map_or_else(|| stem.to_owned(), |place| place.id(stem))
    }

    /// A new object's data key, and that key sealed (to keep in the database), so the record
    /// can be written while the bytes are (see [`BlobStore::put_sealed_bytes`]).
    pub fn new_object_key(&self, id: &str) -> Result<(keyring::DataKey, WrappedKey), BlobError> {
        let data_key = KeyRing::new_data_key()?;
        let wrapped = self.keys.wrap(&data_key, id)?;
        Ok((data_key, wrapped))
    }

    /// Stores bytes already in memory under a key from [`BlobStore::new_object_key`]; in a
    /// local folder sealed whole and written durably (flushed to disk) before this returns.
    pub async fn put_sealed_bytes(
        &self,
        id: &str,
        data_key: keyring::DataKey,
        bytes: Bytes,
    ) -> Result<(), BlobError> {
        if self.writes_locally() {
            let (store, id) = (self.clone(), id.to_owned());
            return tokio::task::spawn_blocking(move || {
                let mut plain = Vec::from(bytes);
                store.put_sealed_bytes_locally(&id, &data_key, &mut [&mut plain])
            })
            .await
            .map_err(|e| BlobError::Io(e.to_string()))?;
        }
        let source = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]);
        self.put_with_key(id, &data_key, source, u64::MAX)
            .await
            .map(|_| ())
    }

    /// Whether this store writes whole objects to a local disk, where
    /// [`BlobStore::put_sealed_bytes_locally`] can store them from a blocking thread.
    pub fn writes_locally(&self) -> bool {
        self.local_dir.is_some()
    }

    /// [`BlobStore::put_sealed_bytes`] for a local store, on the calling (blocking) thread,
    /// of the bytes of `parts` one after the other: sealed where they lie (the parts are left
    /// holding ciphertext), written and flushed to disk before this returns.
    pub fn put_sealed_bytes_locally(
        &self,
        id: &str,
        data_key: &keyring::DataKey,
        parts: &mut [&mut [u8]],
    ) -> Result<(), BlobError> {
        let sealed = SealedInPlace::seal(data_key, id, parts)?;
        let pieces = sealed.slices(parts);
        if let Some((segments, place)) = self.segment_place(id) {
            return segments.write(place, &pieces);
        }
        let Some(dir) = &self.local_dir else {
            return Err(BlobError::Io("not a local store".into()));
        };
        local::write_durably(&dir.join(path_of(id).as_ref()), &pieces)
    }

    /// The segments and place of object `id`, if it lives in a segment.
    fn segment_place(&self, id: &str) -> Option<(Arc<Segments>, Place)> {
        Some((self.segments.clone()?, Place::of(id)?))
    }

    /// Runs a blocking segment operation off the async threads.
    async fn on_segments<T: Send + 'static>(
        segments: Arc<Segments>,
        run: impl FnOnce(&Segments) -> Result<T, BlobError> + Send + 'static,
    ) -> Result<T, BlobError> {
        tokio::task::spawn_blocking(move || run(&segments))
            .await
            .map_err(|e| BlobError::Io(e.to_string()))?
    }

    /// Whether object `id` is stored whole and opens with `key` (every chunk authenticates);
    /// false for a missing, cut-off or damaged object.
    pub async fn opens(&self, id: &str, key: &WrappedKey) -> Result<bool, BlobError> {
        match self.get_bytes(id, key).await {
            Ok(_) => Ok(true),
            Err(BlobError::NotFound | BlobError::Corrupt(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Stores bytes already in memory.
    pub async fn put_bytes(&self, id: &str, bytes: Bytes) -> Result<StoredBlob, BlobError> {
        let size = bytes.len() as u64;
        let (data_key, key) = self.new_object_key(id)?;
        self.put_sealed_bytes(id, data_key, bytes).await?;
        Ok(StoredBlob { size, key })
    }

    /// The plaintext of object `id`, streamed; a chunk that does not authenticate ends the
    /// stream with an error.
    pub async fn get(
        &self,
        id: &str,
        key: &WrappedKey,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let data_key = self.keys.unwrap(key, id)?;
        let source = if let Some((segments, place)) = self.segment_place(id) {
            let sealed = Self::on_segments(segments, move |s| s.read(place)).await?;
            futures_util::stream::once(async move { Ok(Bytes::from(sealed)) }).boxed()
        } else {
            match self.objects.get(&path_of(id)).await {
                Err(object_store::Error::NotFound { .. }) => return Err(BlobError::NotFound),
                other => other?.into_stream(),
            }
        };
        let reader = Reader {
            source,
            buffer: BytesMut::new(),
            cipher: None,
            data_key,
            id: id.to_owned(),
            index: 0,
            done: false,
        };
        Ok(futures_util::stream::unfold(reader, |mut r| async move {
            let item = r.next_chunk().await?;
            Some((item, r))
        })
        .boxed())
    }

    /// Reads a whole (small) object into memory.
    pub async fn get_bytes(&self, id: &str, key: &WrappedKey) -> Result<Bytes, BlobError> {
        let mut stream = self.get(id, key).await?;
        let mut out = BytesMut::new();
        while let Some(piece) = stream.next().await {
            out.extend_from_slice(&piece?);
        }
        Ok(out.freeze())
    }

    /// Seals a small secret (e.g. an organization's UID-mapping key) with the master key,
    /// bound to `label`, for keeping in the database.
    pub fn seal_secret(&self, secret: &[u8; 32], label: &str) -> Result<WrappedKey, BlobError> {
        self.keys.wrap(secret, label)
    }

    /// Opens a secret sealed by [`BlobStore::seal_secret`] under the same `label`.
    pub fn open_secret(&self, sealed: &WrappedKey, label: &str) -> Result<[u8; 32], BlobError> {
        self.keys.unwrap(sealed, label)
    }

    /// Removes object `id`; removing one that is gone is not an error.
    pub async fn delete(&self, id: &str) -> Result<(), BlobError> {
        if let Some((segments, place)) = self.segment_place(id) {
            return Self::on_segments(segments, move |s| s.remove(place)).await;
        }
        match self.objects.delete(&path_of(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The sealed length of `plain_len` bytes: the header, then every chunk with its tag (an empty
/// chunk for empty content).
fn sealed_len(plain_len: usize) -> usize {
    HEADER + plain_len + plain_len.div_ceil(CHUNK).max(1) * TAG
}

/// Decrypts a ciphertext stream chunk by chunk, holding at most two chunks.
struct Reader {
    source: BoxStream<'static, object_store::Result<Bytes>>,
    buffer: BytesMut,
    cipher: Option<ChunkCipher>,
    data_key: keyring::DataKey,
    id: String,
    index: u32,
    done: bool,
}

impl Reader {
    async fn next_chunk(&mut self) -> Option<Result<Bytes, BlobError>> {
        if self.done {
            return None;
        }
        let result = self.read().await;
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
        }
        result.transpose()
    }

    async fn read(&mut self) -> Result<Option<Bytes>, BlobError> {
        const SEALED: usize = CHUNK + TAG;
        loop {
            if self.cipher.is_none() && self.buffer.len() >= HEADER {
                let header = self.buffer.split_to(HEADER);
                self.cipher = Some(ChunkCipher::for_reading(&self.data_key, &self.id, &header)?);
            }
            if let Some(cipher) = &self.cipher
                && self.buffer.len() > SEALED
            {
                // Something follows this chunk, so it is not the last.
                let sealed = self.buffer.split_to(SEALED);
                let plain = cipher.open(self.index, false, &sealed)?;
                self.index += 1;
                return Ok(Some(Bytes::from(plain)));
            }
            match self.source.next().await {
                Some(piece) => self.buffer.extend_from_slice(&piece?),
                None => {
                    let Some(cipher) = &self.cipher else {
                        return Err(BlobError::Corrupt(
                            "the object ends inside its header".into(),
                        ));
                    };
                    if self.buffer.len() < TAG {
                        return Err(BlobError::Corrupt("the object ends inside a chunk".into()));
                    }
                    let sealed = std::mem::take(&mut self.buffer);
                    let plain = cipher.open(self.index, true, &sealed)?;
                    self.done = true;
                    return Ok(Some(Bytes::from(plain)));
                }
            }
        }
    }
}
