//! `file` destination: one file per delivery, written to a temporary name then renamed, so a
//! file-drop consumer never reads half a message. Outputs hold patient data: created 0600 in a
//! directory created 0700, and the file and then the directory are fsync'd before the delivery
//! counts as done (a crash never loses a delivered message).

use super::{Outcome, Transport};
use crate::config::DestinationConfig;
use passerelle_store::{BoxFuture, OutboxItem};
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// File extension for a rendering's content type.
fn extension_for(content_type: &str) -> &'static str {
    if content_type.contains("json") {
        "json"
    } else if content_type.contains("hl7-v2") {
        "hl7"
    } else {
        "bin"
    }
}

pub struct FileTransport {
    dir: PathBuf,
    concurrency: usize,
}

impl FileTransport {
    pub fn new(config: &DestinationConfig) -> Result<Self, String> {
        let dir = PathBuf::from(config.dir.clone().ok_or("file destination without dir")?);
        Ok(Self { dir, concurrency: config.concurrency })
    }
}

impl Transport for FileTransport {
    fn send<'a>(&'a self, item: &'a OutboxItem) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let payload = &item.rendering;
            let name = format!("{:012}-{:012}.{}", item.message_id, item.id, extension_for(&payload.content_type));
            let tmp = self.dir.join(format!(".{name}.tmp"));
            let result = async {
                if !tokio::fs::try_exists(&self.dir).await.unwrap_or(false) {
                    tokio::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.dir).await?;
                }
                // Written from the stored bytes in bounded chunks (`fs::write` would copy them whole).
                let mut file = tokio::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).await?;
                file.write_all(&payload.bytes).await?;
                file.flush().await?;
                file.sync_all().await?;
                drop(file);
                tokio::fs::rename(&tmp, self.dir.join(&name)).await?;
                tokio::fs::File::open(&self.dir).await?.sync_all().await
            }
            .await;
            match result {
                Ok(()) => Outcome::Delivered { answer: format!("written {name}") },
                Err(e) => Outcome::Retry { error: format!("cannot write into {}: {e}", self.dir.display()), after: None },
            }
        })
    }
    fn concurrency(&self) -> usize {
        self.concurrency
    }
}
