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

/// A transfer up to this size is held in memory and stored in one write
/// once complete, or not at all when the store has its bytes already: a
/// small document fetched again costs one look at the store instead of a
/// file opened, written, closed and deleted.
const HELD_AT_MOST: usize = 512 * 1024;

pub struct Blobs {
    store: Arc<dyn ObjectStore>,
}

/// An upload in progress; dropped or aborted, it leaves nothing.
pub struct Upload {
    store: Arc<dyn ObjectStore>,
    location: Path,
    written: Written,
    hasher: Sha256,
    bytes: u64,
}

enum Written {
    /// Nothing in the store yet: the transfer is still small.
    Held(Vec<Bytes>),
    Streaming(WriteMultipart),
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
            None => Arc::new(local(&data_dir.join("documents"))?),
            Some(url) => {
                let parsed = reqwest::Url::parse(url)
                    .with_context(|| format!("archive_store `{url}` is not a URL"))?;
                match parsed.scheme() {
                    "file" => Arc::new(local(FilePath::new(parsed.path()))?),
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
        Ok(Self { store })
    }

    /// Starts a transfer under a name of its own; the store sees it once
    /// it outgrows what is held in memory.
    pub fn begin(&self, name: &str) -> Upload {
        Upload {
            store: self.store.clone(),
            location: Path::from(format!("{INCOMING}/{name}")),
            written: Written::Held(Vec::new()),
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Finishes `upload` and files it under its hash, once however many
    /// transfers carried the same bytes.
    pub async fn finish(&self, upload: Upload) -> object_store::Result<Stored> {
        let Upload { location, written, hasher, bytes, .. } = upload;
        let sha256 = format!("{:x}", hasher.finalize());
        let kept = kept_at(&sha256);
        let writer = match written {
            Written::Streaming(writer) => writer,
            Written::Held(chunks) => {
                let new = match self.store.head(&kept).await {
                    Ok(existing) if existing.size == bytes => false,
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => {
                        self.store.put(&kept, chunks.into_iter().collect()).await?;
                        true
                    }
                    Err(error) => return Err(error),
                };
                return Ok(Stored { sha256, bytes, new });
            }
        };
        writer.finish().await?;
        let placed = async {
            match self.store.head(&kept).await {
                Ok(existing) if existing.size == bytes => {
                    self.store.delete(&location).await?;
                    Ok(false)
                }
                // Missing, or a damaged copy of another size: this one takes its place.
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {
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
        match &mut self.written {
            Written::Held(chunks) if self.bytes <= HELD_AT_MOST as u64 => chunks.push(chunk.clone()),
            Written::Held(chunks) => {
                let held = std::mem::take(chunks);
                let mut writer = WriteMultipart::new(self.store.put_multipart(&self.location).await?);
                for earlier in &held {
                    writer.write(earlier);
                }
                writer.write(chunk);
                self.written = Written::Streaming(writer);
            }
            Written::Streaming(writer) => {
                writer.wait_for_capacity(4).await?;
                writer.write(chunk);
            }
        }
        Ok(())
    }

    /// Throws the transfer away, leaving nothing in the store.
    pub async fn abort(self) {
        if let Written::Streaming(writer) = self.written
            && let Err(error) = writer.abort().await
        {
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
