//! Live memberships in byte order of (account, entitlement), whatever order the connector
//! streams them in, in bounded memory: an external merge sort. Up to [`RUN`] pairs are sorted
//! in memory; more are written as sorted runs to temporary files and merged back with one
//! buffered reader per run. Duplicates are dropped.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use writ_connect::{ConnectorError, LiveGrant};

/// Pairs sorted in memory at once (about 100 bytes each): the sort's memory bound.
pub const RUN: usize = 200_000;

/// One live membership by its native keys.
pub type Pair = (String, String);

/// Why sorting failed.
#[derive(Debug, thiserror::Error)]
pub enum SortError {
    /// The connector failed while listing.
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// A temporary run file could not be written or read.
    #[error("cannot spill live grants to a temporary file: {0}")]
    Spill(#[from] std::io::Error),
}

/// Live memberships, sorted; read them with [`SortedLive::next_pair`].
pub struct SortedLive {
    source: Source,
    last: Option<Pair>,
    /// How many memberships the connector listed (duplicates included).
    pub listed: u64,
}

enum Source {
    Memory(std::vec::IntoIter<Pair>),
    Runs {
        readers: Vec<BufReader<File>>,
        heap: BinaryHeap<Reverse<(Pair, usize)>>,
    },
}

impl SortedLive {
    /// Reads every membership of `grants`, calling `progress` with the count every 10,000.
    pub async fn collect(
        mut grants: BoxStream<'_, Result<LiveGrant, ConnectorError>>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Self, SortError> {
        let mut buffer: Vec<Pair> = Vec::new();
        let mut runs: Vec<File> = Vec::new();
        let mut listed = 0u64;
        while let Some(grant) = grants.next().await {
            let grant = grant?;
            buffer.push((grant.account.to_string(), grant.entitlement.to_string()));
            listed += 1;
            if listed.is_multiple_of(10_000) {
                progress(listed);
            }
            if buffer.len() >= RUN {
                runs.push(spill(&mut buffer)?);
            }
        }
        progress(listed);
        buffer.sort_unstable();
        let source = if runs.is_empty() {
            Source::Memory(buffer.into_iter())
        } else {
            if !buffer.is_empty() {
                runs.push(spill(&mut buffer)?);
            }
            let mut readers: Vec<BufReader<File>> = runs
                .into_iter()
                .map(|file| BufReader::with_capacity(64 * 1024, file))
                .collect();
            let mut heap = BinaryHeap::new();
            for (index, reader) in readers.iter_mut().enumerate() {
                if let Some(pair) = read_pair(reader)? {
                    heap.push(Reverse((pair, index)));
                }
            }
            Source::Runs { readers, heap }
        };
        Ok(Self {
            source,
            last: None,
            listed,
        })
    }

    /// The next membership in byte order, each once.
    pub fn next_pair(&mut self) -> Result<Option<Pair>, SortError> {
        loop {
            let next = match &mut self.source {
                Source::Memory(pairs) => pairs.next(),
                Source::Runs { readers, heap } => match heap.pop() {
                    None => None,
                    Some(Reverse((pair, index))) => {
                        if let Some(reader) = readers.get_mut(index)
                            && let Some(following) = read_pair(reader)?
                        {
                            heap.push(Reverse((following, index)));
                        }
                        Some(pair)
                    }
                },
            };
            match next {
                None => return Ok(None),
                Some(pair) if self.last.as_ref() == Some(&pair) => continue,
                Some(pair) => {
                    self.last = Some(pair.clone());
                    return Ok(Some(pair));
                }
            }
        }
    }
}

/// Sorts `buffer` into a new temporary file (deleted when closed) and empties it.
fn spill(buffer: &mut Vec<Pair>) -> Result<File, std::io::Error> {
    buffer.sort_unstable();
    let mut writer = BufWriter::with_capacity(256 * 1024, tempfile::tempfile()?);
    for (account, entitlement) in buffer.drain(..) {
        write_text(&mut writer, &account)?;
        write_text(&mut writer, &entitlement)?;
    }
    let mut file = writer.into_inner().map_err(|e| e.into_error())?;
    std::io::Seek::rewind(&mut file)?;
    Ok(file)
}

fn write_text(writer: &mut impl Write, text: &str) -> Result<(), std::io::Error> {
    let len =
        u32::try_from(text.len()).map_err(|_| std::io::Error::other("a key longer than 4 GiB"))?;
    writer.write_all(&len.to_le_bytes())?;
    writer.write_all(text.as_bytes())
}

fn read_pair(reader: &mut impl Read) -> Result<Option<Pair>, std::io::Error> {
    let Some(account) = read_text(reader)? else {
        return Ok(None);
    };
    let entitlement = read_text(reader)?
        .ok_or_else(|| std::io::Error::other("a run file ends inside a record"))?;
    Ok(Some((account, entitlement)))
}

fn read_text(reader: &mut impl Read) -> Result<Option<String>, std::io::Error> {
    let mut len = [0u8; 4];
    match reader.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
    reader.read_exact(&mut bytes)?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| std::io::Error::other(format!("a run file holds invalid text: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    fn grant(account: &str, entitlement: &str) -> Result<LiveGrant, ConnectorError> {
        Ok(LiveGrant {
            account: account.parse().unwrap(),
            entitlement: entitlement.parse().unwrap(),
        })
    }

    async fn sorted(grants: Vec<Result<LiveGrant, ConnectorError>>) -> Vec<Pair> {
        let mut live = SortedLive::collect(stream::iter(grants).boxed(), &|_| {})
            .await
            .unwrap();
        let mut out = Vec::new();
        while let Some(pair) = live.next_pair().unwrap() {
            out.push(pair);
        }
        out
    }

    #[tokio::test]
    async fn memberships_come_out_in_byte_order_once_each() {
        let out = sorted(vec![
            grant("b", "x"),
            grant("a", "y"),
            grant("B", "x"),
            grant("a", "x"),
            grant("a", "y"),
        ])
        .await;
        let expected: Vec<Pair> = [("B", "x"), ("a", "x"), ("a", "y"), ("b", "x")]
            .iter()
            .map(|(a, e)| (a.to_string(), e.to_string()))
            .collect();
        assert_eq!(out, expected);
    }

    #[tokio::test]
    async fn more_than_one_run_spills_to_files_and_merges_back_in_order() {
        let count = RUN * 2 + 17;
        let grants = (0..count)
            .rev()
            .map(|i| grant(&format!("acct{:07}", i / 3), &format!("ent{}", i % 3)))
            .collect();
        let out = sorted(grants).await;
        assert_eq!(out.len(), count);
        assert!(out.windows(2).all(|w| w[0] < w[1]));
    }
}
