//! Where sound files live (docs/SOUNDS.md): a folder under `DATA_DIR` by default, or
//! S3-compatible object storage when `STORAGE_URL=s3://bucket/prefix` is set, so that several
//! processes serve the same files. Both are `object_store` backends; keys are
//! `{projectId}/{soundId}.{ext}`, so a project's files sit in its own folder (SPEC §3.2).

use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

use crate::error::{Error, Result};

#[derive(Clone)]
pub struct SoundStore {
    inner: Arc<dyn ObjectStore>,
    /// Where the files are, for the log and the docs (never a credential).
    pub location: String,
}

impl std::fmt::Debug for SoundStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoundStore").field("location", &self.location).finish()
    }
}

fn storage(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("sound storage: {e}"))
}

impl SoundStore {
    /// `storage_url` `s3://bucket[/prefix]` selects object storage, configured further by the
    /// usual `AWS_*` variables (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_REGION`, `AWS_ALLOW_HTTP`); otherwise the files go to `{data_dir}/sounds`.
    pub fn open(storage_url: Option<&str>, data_dir: &FsPath) -> Result<SoundStore> {
        match storage_url {
            Some(url) => {
                let rest = url
                    .strip_prefix("s3://")
                    .ok_or_else(|| Error::Internal(format!("STORAGE_URL must be s3://bucket[/prefix], not {url}")))?;
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(Error::Internal("STORAGE_URL names no bucket".into()));
                }
                let s3 =
                    object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket).build().map_err(storage)?;
                let prefix = prefix.trim_matches('/');
                let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
                };
                Ok(SoundStore { inner, location: format!("s3://{bucket}/{prefix}") })
            }
            None => {
                let dir = data_dir.join("sounds");
                std::fs::create_dir_all(&dir).map_err(|e| storage(format!("{}: {e}", dir.display())))?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir).map_err(storage)?;
                Ok(SoundStore { inner: Arc::new(fs), location: dir.display().to_string() })
            }
        }
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.inner.put(&Path::from(key), PutPayload::from_bytes(bytes)).await.map_err(storage)?;
        Ok(())
    }

    /// The bytes of `range` (the whole file when `None`).
    pub async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Bytes> {
        let path = Path::from(key);
        let got = match range {
            Some(r) => self.inner.get_range(&path, r).await,
            None => match self.inner.get(&path).await {
                Ok(g) => g.bytes().await,
                Err(e) => Err(e),
            },
        };
        got.map_err(|e| match e {
            object_store::Error::NotFound { .. } => Error::NotFound,
            other => storage(other),
        })
    }

    /// Removes the file; one already gone is no error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_folder_store_keeps_ranges_and_forgets_deleted_files() {
        let dir = std::env::temp_dir().join(format!("sound-store-{}", uuid::Uuid::new_v4()));
        let store = SoundStore::open(None, &dir).unwrap();
        store.put("p1/s1.wav", Bytes::from_static(b"0123456789")).await.unwrap();
        assert!(dir.join("sounds/p1/s1.wav").is_file(), "the project's own folder");
        assert_eq!(store.get("p1/s1.wav", None).await.unwrap(), Bytes::from_static(b"0123456789"));
        assert_eq!(store.get("p1/s1.wav", Some(2..5)).await.unwrap(), Bytes::from_static(b"234"));
        store.delete("p1/s1.wav").await.unwrap();
        store.delete("p1/s1.wav").await.unwrap();
        assert!(matches!(store.get("p1/s1.wav", None).await, Err(Error::NotFound)));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_storage_url_must_name_an_s3_bucket() {
        assert!(SoundStore::open(Some("gs://x"), FsPath::new("/tmp")).is_err());
        assert!(SoundStore::open(Some("s3://"), FsPath::new("/tmp")).is_err());
    }
}
