//! The archived bytes, in an object store under their SHA-256: the local
//! file system under `data_dir` by default, S3, Azure or Google Cloud
//! Storage by URL (credentials from the store's usual environment
//! variables, as `object_store`'s builders read them).

use std::{path::Path as FilePath, sync::Arc};

use anyhow::Context;
use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use object_store::{
    ObjectStore, WriteMultipart, aws::AmazonS3Builder, azure::MicrosoftAzureBuilder,
    gcp::GoogleCloudStorageBuilder, local::LocalFileSystem, path::Path,
};
use sha2::{Digest, Sha256};

/// Where a transfer is written until it is known to be complete; nothing
/// here is ever served.
const INCOMING: &str = "incoming";

#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// The same store when it is the local file system, whose files are
    /// looked at in place.
    local: Option<Arc<LocalFileSystem>>,
}

/// An upload in progress; dropped or aborted, it leaves nothing.
pub struct Upload {
    location: Path,
    writer: WriteMultipart,
    hasher: Sha256,
    bytes: u64,
}

/// A finished upload's fingerprint.
pub struct Stored {
    pub sha256: String,
    pub bytes: u64,
    /// Whether these bytes were new to the store (not already there from
    /// an earlier fetch).
    pub new: bool,
}

impl Blobs {
    /// `url` is `s3://bucket/prefix`, `az://container/prefix`,
    /// `gs://bucket/prefix` or `file:///path`; without it, `documents/`
    /// under `data_dir`.
    pub fn open(url: Option<&str>, data_dir: &FilePath) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = match url {
            None => return Ok(Self::local(local(&data_dir.join("documents"))?)),
            Some(url) => {
                let parsed = reqwest::Url::parse(url)
                    .with_context(|| format!("archive_store `{url}` is not a URL"))?;
                match parsed.scheme() {
                    "file" => return Ok(Self::local(local(FilePath::new(parsed.path()))?)),
                    "s3" | "s3a" => Arc::new(AmazonS3Builder::from_env().with_url(url).build()?),
                    "az" | "azure" | "abfs" | "abfss" => {
                        Arc::new(MicrosoftAzureBuilder::from_env().with_url(url).build()?)
                    }
                    "gs" => Arc::new(GoogleCloudStorageBuilder::from_env().with_url(url).build()?),
                    other => anyhow::bail!(
                        "archive_store: `{other}://` is not a store the relay knows; use s3://, az://, gs:// or file://"
                    ),
                }
            }
        };
        Ok(Self { store, local: None })
    }

    fn local(store: LocalFileSystem) -> Self {
        let store = Arc::new(store);
        Self { store: store.clone(), local: Some(store) }
    }

    /// Files a whole document's `chunks` under `sha256`, their hash,
    /// unless the store has them already; whether they were new to it.
    pub async fn keep_whole(&self, sha256: &str, chunks: Vec<Bytes>) -> object_store::Result<bool> {
        let kept = kept_at(sha256);
        let bytes: u64 = chunks.iter().map(|chunk| chunk.len() as u64).sum();
        if self.size_of(&kept).await? == Some(bytes) {
            return Ok(false);
        }
        // Missing, or a damaged copy of another size: this one takes its place.
        self.store.put(&kept, chunks.into_iter().collect()).await?;
        Ok(true)
    }

    /// The size of what is stored at `location`, if anything is.
    async fn size_of(&self, location: &Path) -> object_store::Result<Option<u64>> {
        let found = match &self.local {
            // A look at a local file takes microseconds, less than handing
            // it to a blocking thread as the store would for each document.
            Some(local) => match std::fs::metadata(local.path_to_filesystem(location)?) {
                Ok(metadata) => Ok(metadata.len()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(error) => {
                    Err(object_store::Error::Generic { store: "LocalFileSystem", source: error.into() })
                }
            },
            None => self.store.head(location).await.map(|meta| meta.size),
        };
        match found {
            Ok(size) => Ok(Some(size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Starts a transfer under a name of its own.
    pub async fn begin(&self, name: &str) -> object_store::Result<Upload> {
        let location = Path::from(format!("{INCOMING}/{name}"));
        let writer = WriteMultipart::new(self.store.put_multipart(&location).await?);
        Ok(Upload { location, writer, hasher: Sha256::new(), bytes: 0 })
    }

    /// Finishes `upload` and files it under its hash, once however many
    /// transfers carried the same bytes.
    pub async fn finish(&self, upload: Upload) -> object_store::Result<Stored> {
        let Upload { location, writer, hasher, bytes } = upload;
        let sha256 = format!("{:x}", hasher.finalize());
        let kept = kept_at(&sha256);
        writer.finish().await?;
        let placed = async {
            match self.size_of(&kept).await {
                Ok(Some(size)) if size == bytes => {
                    self.store.delete(&location).await?;
                    Ok(false)
                }
                // Missing, or a damaged copy of another size: this one takes its place.
                Ok(_) => {
                    self.store.rename(&location, &kept).await?;
                    Ok(true)
                }
                Err(error) => Err(error),
            }
        }
        .await;
        match placed {
            Ok(new) => Ok(Stored { sha256, bytes, new }),
            Err(error) => {
                let _ = self.store.delete(&location).await;
                Err(error)
            }
        }
    }

    /// Removes the bytes of `sha256`.
    pub async fn remove(&self, sha256: &str) -> object_store::Result<()> {
        match self.store.delete(&kept_at(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The bytes of `sha256` as they are stored, unchecked.
    pub async fn read(
        &self,
        sha256: &str,
    ) -> object_store::Result<impl Stream<Item = object_store::Result<Bytes>> + Send + 'static> {
        Ok(self.store.get(&kept_at(sha256)).await?.into_stream())
    }

    /// Whether the stored bytes of `sha256` still hash to it and are `bytes` long.
    pub async fn intact(&self, sha256: &str, bytes: u64) -> object_store::Result<bool> {
        let mut stream = self.read(sha256).await?;
        let (mut hasher, mut read) = (Sha256::new(), 0u64);
        while let Some(chunk) = stream.try_next().await? {
            read += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok(read == bytes && format!("{:x}", hasher.finalize()) == sha256)
    }

    /// Removes transfers left in `incoming/` by a relay that stopped
    /// mid-write, older than `age`; returns how many.
    pub async fn sweep_incoming(&self, age: chrono::Duration) -> object_store::Result<usize> {
        let cutoff = chrono::Utc::now() - age;
        let stale: Vec<Path> = self
            .store
            .list(Some(&Path::from(INCOMING)))
            .try_filter(|meta| std::future::ready(meta.last_modified < cutoff))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await?;
        for location in &stale {
            self.store.delete(location).await?;
        }
        Ok(stale.len())
    }
}

impl Upload {
    /// Adds a chunk, waiting only while earlier parts are still being sent
    /// to the store.
    pub async fn write(&mut self, chunk: &Bytes) -> object_store::Result<()> {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
        self.writer.wait_for_capacity(4).await?;
        // Taken as it is, not copied into the part's buffer.
        self.writer.put(chunk.clone());
        Ok(())
    }

    /// Throws the transfer away, leaving nothing in the store.
    pub async fn abort(self) {
        if let Err(error) = self.writer.abort().await {
            tracing::warn!(%error, location = %self.location, "cannot remove an abandoned archive upload");
        }
    }
}

/// `sha256/ab/abcdef…`: two levels keep directories small on a file system.
fn kept_at(sha256: &str) -> Path {
    Path::from(format!("sha256/{}/{sha256}", &sha256[..2]))
}

fn local(directory: &FilePath) -> anyhow::Result<LocalFileSystem> {
    std::fs::create_dir_all(directory)
        .with_context(|| format!("cannot create the archive directory {}", directory.display()))?;
    Ok(LocalFileSystem::new_with_prefix(directory)?.with_automatic_cleanup(true))
}
