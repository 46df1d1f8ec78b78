//! Content written once, then read several times: an upload, its
//! decrypted plaintext, its text transcoded to UTF-8.
//!
//! A [`Spool`] is either bytes in memory (tests, files the gateway already
//! holds as bytes) or an unnamed temporary file (`O_TMPFILE`: it has no name
//! and disappears when the last handle closes, even if the process
//! crashes). Only the file handle, the content's length, its SHA-256 and its
//! first [`HEAD_LEN`] bytes are held in memory for a file-backed spool;
//! readers read it through `pread` with their own offset, so several of
//! them can be open at once.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sha2::Digest;

/// How many first bytes [`Spool::head`] keeps (enough to recognise an age
/// header, a ZIP magic or a byte-order mark).
pub const HEAD_LEN: usize = 64;

/// Buffer size of readers and writers over a file-backed spool.
const BUF: usize = 64 * 1024;

/// Bytes collected from a request body before they are written out (in a
/// blocking task).
const BODY_BATCH: usize = 256 * 1024;

/// A spool could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpoolError {
    /// The content exceeds the limit.
    #[error("the content exceeds {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The request body ended with an error (the client cut it).
    #[error("the body was cut before its end")]
    Cut,
    /// The temporary file cannot be created, written or read.
    #[error("cannot write the temporary file: {0}")]
    Io(#[from] io::Error),
}

/// Why [`SpoolWriter::copy_from`] stopped.
#[derive(Debug)]
pub enum CopyError {
    /// Reading the source failed.
    Read(io::Error),
    /// Writing the spool failed (or went past its limit).
    Spool(SpoolError),
}

#[derive(Clone)]
enum Backing {
    Memory(Arc<[u8]>),
    File { file: Arc<File>, dir: PathBuf },
}

/// Content written once, read several times (see the module docs).
///
/// Cloning is cheap (the content is shared). `Debug` shows the length and
/// where the content lives, never the content.
#[derive(Clone)]
pub struct Spool {
    backing: Backing,
    len: u64,
    head: Box<[u8]>,
    sha256: OnceLock<String>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Spool");
        d.field("len", &self.len);
        match &self.backing {
            Backing::Memory(_) => d.field("in", &"memory"),
            Backing::File { dir, .. } => d.field("in", dir),
        };
        d.finish_non_exhaustive()
    }
}

impl Spool {
    fn memory(bytes: Arc<[u8]>) -> Spool {
        Spool {
            head: bytes[..bytes.len().min(HEAD_LEN)].into(),
            len: bytes.len() as u64,
            backing: Backing::Memory(bytes),
            sha256: OnceLock::new(),
        }
    }

    /// Copies `r` into a new temporary file in `dir`, refusing more than
    /// `limit` bytes ([`SpoolError::TooLarge`]).
    pub fn from_reader(r: impl Read, dir: &Path, limit: usize) -> Result<Spool, SpoolError> {
        let mut w = SpoolWriter::new(Some(dir), limit)?;
        w.copy_from(r).map_err(|e| match e {
            CopyError::Read(e) => SpoolError::Io(e),
            CopyError::Spool(e) => e,
        })?;
        w.finish()
    }

    /// Streams a request body into a new temporary file in `dir`, hashing
    /// it on the way, refusing more than `limit` bytes
    /// ([`SpoolError::TooLarge`], as soon as the limit is crossed) and
    /// reporting a body the client cut ([`SpoolError::Cut`]). File writes
    /// happen in blocking tasks, by batches of a few hundred KiB.
    pub async fn from_body(
        mut body: axum::body::Body,
        dir: &Path,
        limit: usize,
    ) -> Result<Spool, SpoolError> {
        use axum::body::HttpBody;
        if body.size_hint().lower() > limit as u64 {
            return Err(SpoolError::TooLarge { limit });
        }
        let dir = dir.to_owned();
        let mut writer = blocking(move || SpoolWriter::new(Some(&dir), limit)).await?;
        let mut batch: Vec<axum::body::Bytes> = Vec::new();
        let mut batched = 0usize;
        let mut total = 0usize;
        loop {
            let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx))
                .await
                .transpose()
                .map_err(|_| SpoolError::Cut)?;
            let Some(frame) = frame else { break };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            total = total.saturating_add(data.len());
            if total > limit {
                return Err(SpoolError::TooLarge { limit });
            }
            batched += data.len();
            batch.push(data);
            if batched >= BODY_BATCH {
                let chunks = std::mem::take(&mut batch);
                batched = 0;
                writer = blocking(move || {
                    for c in &chunks {
                        writer.push(c)?;
                    }
                    Ok::<_, SpoolError>(writer)
                })
                .await?;
            }
        }
        blocking(move || {
            for c in &batch {
                writer.push(c)?;
            }
            writer.finish()
        })
        .await
    }

    /// Length of the content, in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the content is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// SHA-256 of the content, lowercase hex (computed while writing for a
    /// file-backed spool, on first call for bytes).
    pub fn sha256_hex(&self) -> &str {
        self.sha256.get_or_init(|| match &self.backing {
            Backing::Memory(b) => hex::encode(sha2::Sha256::digest(b)),
            Backing::File { .. } => {
                unreachable!("a file-backed spool is hashed by SpoolWriter::finish")
            }
        })
    }

    /// The first bytes of the content (up to [`HEAD_LEN`]; fewer only when
    /// the content is shorter).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The folder of the temporary file (where spools derived from this one
    /// go); `None` for bytes in memory.
    pub fn dir(&self) -> Option<&Path> {
        match &self.backing {
            Backing::Memory(_) => None,
            Backing::File { dir, .. } => Some(dir),
        }
    }

    /// Whether the content lives in a temporary file.
    pub fn is_file(&self) -> bool {
        matches!(self.backing, Backing::File { .. })
    }

    /// A new reader from the start of the content.
    pub fn reader(&self) -> SpoolReader {
        self.reader_at(0)
    }

    /// A new reader from byte `offset` (clamped to the length).
    pub fn reader_at(&self, offset: u64) -> SpoolReader {
        let offset = offset.min(self.len);
        let inner = match &self.backing {
            Backing::Memory(b) => {
                let mut c = Cursor::new(Arc::clone(b));
                c.set_position(offset);
                ReaderInner::Memory(c)
            }
            Backing::File { file, .. } => ReaderInner::File(BufReader::with_capacity(
                BUF,
                FileAt {
                    file: Arc::clone(file),
                    pos: offset,
                    len: self.len,
                },
            )),
        };
        SpoolReader { inner }
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("the spool task does not panic")
}

impl From<Vec<u8>> for Spool {
    fn from(v: Vec<u8>) -> Spool {
        Spool::memory(v.into())
    }
}

impl From<&Vec<u8>> for Spool {
    fn from(v: &Vec<u8>) -> Spool {
        Spool::memory(v.as_slice().into())
    }
}

impl From<&[u8]> for Spool {
    fn from(v: &[u8]) -> Spool {
        Spool::memory(v.into())
    }
}

impl<const N: usize> From<&[u8; N]> for Spool {
    fn from(v: &[u8; N]) -> Spool {
        Spool::memory(v.as_slice().into())
    }
}

impl From<&Spool> for Spool {
    fn from(s: &Spool) -> Spool {
        s.clone()
    }
}

/// Writes a new spool: to a temporary file, or to memory (see
/// [`SpoolWriter::new`]), hashing and counting as it goes.
pub struct SpoolWriter {
    sink: Sink,
    hasher: sha2::Sha256,
    len: u64,
    limit: usize,
    head: Vec<u8>,
}

enum Sink {
    Memory(Vec<u8>),
    File {
        out: io::BufWriter<File>,
        dir: PathBuf,
    },
}

impl std::fmt::Debug for SpoolWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpoolWriter")
            .field("len", &self.len)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl SpoolWriter {
    /// A writer into an unnamed temporary file created in `dir`, or into
    /// memory when `dir` is `None`; at most `limit` bytes.
    pub fn new(dir: Option<&Path>, limit: usize) -> Result<SpoolWriter, SpoolError> {
        let sink = match dir {
            None => Sink::Memory(Vec::new()),
            Some(dir) => Sink::File {
                out: io::BufWriter::with_capacity(BUF, tempfile::tempfile_in(dir)?),
                dir: dir.to_owned(),
            },
        };
        Ok(SpoolWriter {
            sink,
            hasher: sha2::Sha256::new(),
            len: 0,
            limit,
            head: Vec::new(),
        })
    }

    /// Appends bytes; [`SpoolError::TooLarge`] once past the limit.
    pub fn push(&mut self, data: &[u8]) -> Result<(), SpoolError> {
        let len = self.len.saturating_add(data.len() as u64);
        if len > self.limit as u64 {
            return Err(SpoolError::TooLarge { limit: self.limit });
        }
        if self.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..take]);
        }
        self.hasher.update(data);
        match &mut self.sink {
            Sink::Memory(v) => v.extend_from_slice(data),
            Sink::File { out, .. } => out.write_all(data)?,
        }
        self.len = len;
        Ok(())
    }

    /// Appends everything `r` gives, telling a failure to read `r` from a
    /// failure to write the spool.
    pub fn copy_from(&mut self, mut r: impl Read) -> Result<(), CopyError> {
        let mut buf = vec![0u8; BUF];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(CopyError::Read(e)),
            };
            self.push(&buf[..n]).map_err(CopyError::Spool)?;
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Ends the writing: the spool, ready to be read.
    pub fn finish(self) -> Result<Spool, SpoolError> {
        let sha256 = OnceLock::new();
        let _ = sha256.set(hex::encode(self.hasher.finalize()));
        let backing = match self.sink {
            Sink::Memory(v) => Backing::Memory(v.into()),
            Sink::File { out, dir } => {
                let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
                Backing::File {
                    file: Arc::new(file),
                    dir,
                }
            }
        };
        Ok(Spool {
            backing,
            len: self.len,
            head: self.head.into(),
            sha256,
        })
    }
}

/// A reader over a shared file with its own offset (`pread`).
#[derive(Debug)]
struct FileAt {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl Read for FileAt {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for FileAt {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = target;
        Ok(target)
    }
}

enum ReaderInner {
    Memory(Cursor<Arc<[u8]>>),
    File(BufReader<FileAt>),
}

/// A reader over a [`Spool`] (buffered, seekable, independent of the
/// other readers).
pub struct SpoolReader {
    inner: ReaderInner,
}

impl std::fmt::Debug for SpoolReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpoolReader")
    }
}

impl Read for SpoolReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            ReaderInner::Memory(c) => c.read(buf),
            ReaderInner::File(r) => r.read(buf),
        }
    }
}

impl BufRead for SpoolReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match &mut self.inner {
            ReaderInner::Memory(c) => c.fill_buf(),
            ReaderInner::File(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, amt: usize) {
        match &mut self.inner {
            ReaderInner::Memory(c) => c.consume(amt),
            ReaderInner::File(r) => r.consume(amt),
        }
    }
}

impl Seek for SpoolReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match &mut self.inner {
            ReaderInner::Memory(c) => c.seek(pos),
            ReaderInner::File(r) => r.seek(pos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(mut r: impl Read) -> Vec<u8> {
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        v
    }

    fn content(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn file_backed_with_several_readers() {
        let dir = tempfile::tempdir().unwrap();
        let data = content(300_000);
        let s = Spool::from_reader(&data[..], dir.path(), 1 << 20).unwrap();
        assert!(s.is_file());
        assert_eq!(s.len(), 300_000);
        assert_eq!(s.dir(), Some(dir.path()));
        assert_eq!(s.head(), &data[..HEAD_LEN]);
        // The file has no name in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Interleaved readers keep their own offsets.
        let mut a = s.reader();
        let mut b = s.reader_at(100_000);
        let mut buf_a = [0u8; 10];
        let mut buf_b = [0u8; 10];
        a.read_exact(&mut buf_a).unwrap();
        b.read_exact(&mut buf_b).unwrap();
        assert_eq!(buf_a, data[..10]);
        assert_eq!(buf_b, data[100_000..100_010]);
        assert_eq!(read_all(&mut a), &data[10..]);
        assert_eq!(read_all(&mut b), &data[100_010..]);
        // Clones share the content.
        let c = s.clone();
        assert_eq!(read_all(c.reader()), data);
        // Seek from the end, then back.
        let mut r = s.reader();
        assert_eq!(r.seek(SeekFrom::End(-5)).unwrap(), 299_995);
        assert_eq!(read_all(&mut r), &data[299_995..]);
        r.seek(SeekFrom::Start(3)).unwrap();
        let mut three = [0u8; 3];
        r.read_exact(&mut three).unwrap();
        assert_eq!(three, data[3..6]);
    }

    #[test]
    fn hash_is_the_sha256_of_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let data = content(150_000);
        let expected = crate::util::sha256_hex(&data);
        let s = Spool::from_reader(&data[..], dir.path(), usize::MAX).unwrap();
        assert_eq!(s.sha256_hex(), expected);
        assert_eq!(Spool::from(data.clone()).sha256_hex(), expected);
        assert_eq!(
            Spool::from(&b""[..]).sha256_hex(),
            crate::util::sha256_hex(b"")
        );
    }

    #[test]
    fn limit_is_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let data = content(1_001);
        assert!(matches!(
            Spool::from_reader(&data[..], dir.path(), 1_000),
            Err(SpoolError::TooLarge { limit: 1_000 })
        ));
        let s = Spool::from_reader(&data[..1_000], dir.path(), 1_000).unwrap();
        assert_eq!(s.len(), 1_000);
    }

    #[test]
    fn memory_spool() {
        let s = Spool::from(b"abc");
        assert!(!s.is_file());
        assert_eq!(s.dir(), None);
        assert_eq!(s.head(), b"abc");
        assert_eq!(read_all(s.reader_at(1)), b"bc");
        assert_eq!(read_all(s.reader_at(10)), b"");
        assert!(!format!("{s:?}").contains("abc"));
    }

    #[test]
    fn memory_writer() {
        let mut w = SpoolWriter::new(None, 10).unwrap();
        w.push(b"hello").unwrap();
        assert!(matches!(
            w.push(b", world"),
            Err(SpoolError::TooLarge { limit: 10 })
        ));
        let s = w.finish().unwrap();
        assert!(!s.is_file());
        assert_eq!(read_all(s.reader()), b"hello");
        assert_eq!(s.sha256_hex(), crate::util::sha256_hex(b"hello"));
    }

    /// A body yielding these chunks (or errors) one frame each.
    struct Chunks(std::vec::IntoIter<Result<Vec<u8>, io::Error>>);

    impl hyper::body::Body for Chunks {
        type Data = axum::body::Bytes;
        type Error = io::Error;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, io::Error>>> {
            std::task::Poll::Ready(
                self.0
                    .next()
                    .map(|r| r.map(|v| hyper::body::Frame::data(v.into()))),
            )
        }
    }

    fn body(chunks: Vec<Result<Vec<u8>, io::Error>>) -> axum::body::Body {
        axum::body::Body::new(Chunks(chunks.into_iter()))
    }

    #[tokio::test]
    async fn from_body_streams_and_limits() {
        let dir = tempfile::tempdir().unwrap();
        let data = content(700_000);
        let chunks = || data.chunks(10_000).map(|c| Ok(c.to_vec())).collect();
        let s = Spool::from_body(body(chunks()), dir.path(), 1 << 20)
            .await
            .unwrap();
        assert!(s.is_file());
        assert_eq!(read_all(s.reader()), data);
        assert_eq!(s.sha256_hex(), crate::util::sha256_hex(&data));
        // Refused up front (known length) or while streaming.
        assert!(matches!(
            Spool::from_body(axum::body::Body::from(data.clone()), dir.path(), 1_000).await,
            Err(SpoolError::TooLarge { limit: 1_000 })
        ));
        assert!(matches!(
            Spool::from_body(body(chunks()), dir.path(), 100_000).await,
            Err(SpoolError::TooLarge { limit: 100_000 })
        ));
        let cut = vec![Ok(b"abc".to_vec()), Err(io::Error::other("reset"))];
        assert!(matches!(
            Spool::from_body(body(cut), dir.path(), 1_000).await,
            Err(SpoolError::Cut)
        ));
    }
}
