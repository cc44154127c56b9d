//! Where flows come from. [`RecordSource`] is what every report consumes:
//! batches of records plus the stream header. [`open_stdin`] reads an ft
//! stream on standard input (the classic pipe path).

use std::io::Read;

use formats::ft::{FtHeader, FtReader};
use formats::Record;

use crate::Error;

/// Records per batch handed to reports.
pub const BATCH: usize = 4096;

/// A stream of records with its header.
pub trait RecordSource {
    /// The stream header (for `-p` and report metadata).
    fn header(&self) -> &FtHeader;
    /// Appends up to [`BATCH`] records to `out`; returns how many were
    /// added, 0 at the end. Truncation warnings are printed by the source.
    fn next_batch(&mut self, out: &mut Vec<Record>) -> Result<usize, Error>;
}

/// An ft stream read from any byte source.
pub struct FtSource<R: Read> {
    reader: FtReader<R>,
    warned: bool,
}

impl<R: Read> FtSource<R> {
    /// Reads the header of `r`.
    pub fn new(r: R) -> Result<Self, Error> {
        Ok(FtSource {
            reader: FtReader::new(r)?,
            warned: false,
        })
    }
}

impl<R: Read> RecordSource for FtSource<R> {
    fn header(&self) -> &FtHeader {
        self.reader.header()
    }
    fn next_batch(&mut self, out: &mut Vec<Record>) -> Result<usize, Error> {
        let n = self.reader.read_batch(out, BATCH)?;
        if n == 0 && !self.warned {
            if let Some(w) = self.reader.warning() {
                crate::cli::warn(w);
            }
            self.warned = true;
        }
        Ok(n)
    }
}

/// Opens standard input as an ft stream.
pub fn open_stdin() -> Result<FtSource<std::io::StdinLock<'static>>, Error> {
    FtSource::new(std::io::stdin().lock())
}
