//! Reading inputs with bounded memory: a file (plain or gzip, decompressed
//! as a stream), or standard input; the head of each input for the format
//! check; and [`LineReader`], which splits a byte stream into lines in a
//! reusable buffer.
//!
//! An import reads a file up to three times, never holding more than a
//! buffer of it: the head (at most [`HEAD_BYTES`]) for detection and the
//! format check, a scan for the years of year-less stamps (those formats
//! only), then the import itself. Standard input cannot be read twice: its
//! head stays in memory and is replayed in front of the rest; when a year
//! scan is needed, the whole input is first copied into an unnamed
//! temporary file (disk, not memory).

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::Error;

/// Bytes of an input examined by detection and the format check.
pub const HEAD_BYTES: usize = 16 << 20;

/// Lines longer than this are not parsed (counted as malformed).
pub const MAX_LINE: usize = 1 << 20;

/// Read size of the line splitter.
const CHUNK: usize = 256 << 10;

/// Position of the first `b` in `hay` (16 or 32 bytes at a time).
#[inline]
pub fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
    crate::bytescan::find_byte(hay, b)
}

/// Splits `data` on `\n`; a final line without newline is a line; a
/// trailing `\r` is dropped.
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match find_byte(rest, b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    })
}

/// One line from a [`LineReader`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line, without `\n` and a trailing `\r`.
    Text(&'a [u8]),
    /// A line longer than [`MAX_LINE`]: its first bytes; the rest was
    /// skipped.
    TooLong(&'a [u8]),
}

/// Splits a byte stream into lines exactly like [`lines`], in one buffer
/// reused for the whole stream. A run of NUL bytes at the start of a line
/// (power loss) is kept as one NUL however long it is.
pub struct LineReader<R> {
    r: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    skip_rest: bool,
}

impl<R: Read> LineReader<R> {
    /// A reader over `r`.
    pub fn new(r: R) -> Self {
        LineReader {
            r,
            buf: vec![0; CHUNK],
            pos: 0,
            end: 0,
            eof: false,
            skip_rest: false,
        }
    }

    /// Reads more into the buffer after compacting; false at end of input.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let n = (self.buf.len() * 2).min(MAX_LINE + CHUNK);
            self.buf.resize(n, 0);
        }
        loop {
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next line, `None` at the end.
    pub fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        let mut scanned = 0;
        loop {
            if let Some(i) = find_byte(&self.buf[self.pos + scanned..self.end], b'\n') {
                let (start, nl) = (self.pos, self.pos + scanned + i);
                self.pos = nl + 1;
                if self.skip_rest {
                    self.skip_rest = false;
                    scanned = 0;
                    continue;
                }
                return Ok(Some(finish_line(&self.buf[start..nl])));
            }
            scanned = self.end - self.pos;
            if self.skip_rest {
                // discard the rest of an over-long line
                self.pos = self.end;
                scanned = 0;
            } else if scanned > MAX_LINE {
                let nuls = self.buf[self.pos..self.end]
                    .iter()
                    .take_while(|&&c| c == 0)
                    .count();
                if nuls > 1 {
                    // keep one NUL of a NUL run
                    self.pos += nuls - 1;
                    scanned -= nuls - 1;
                } else {
                    self.skip_rest = true;
                    let start = self.pos;
                    self.pos = self.end;
                    return Ok(Some(Line::TooLong(&self.buf[start..start + MAX_LINE])));
                }
            }
            if !self.fill()? {
                if self.skip_rest {
                    self.skip_rest = false;
                    return Ok(None);
                }
                if self.pos < self.end {
                    let start = self.pos;
                    self.pos = self.end;
                    return Ok(Some(finish_line(&self.buf[start..self.end])));
                }
                return Ok(None);
            }
            // `fill` moved the unscanned bytes to the front
            scanned = scanned.min(self.end - self.pos);
        }
    }
}

/// A complete line (without `\n`): a NUL run at its start is cut to one
/// NUL when the line is too long, then over-long lines are cut.
fn finish_line(line: &[u8]) -> Line<'_> {
    let mut line = line;
    if line.len() > MAX_LINE {
        let nuls = line.iter().take_while(|&&c| c == 0).count();
        line = &line[nuls.saturating_sub(1)..];
        if line.len() > MAX_LINE {
            return Line::TooLong(&line[..MAX_LINE]);
        }
    }
    Line::Text(line.strip_suffix(b"\r").unwrap_or(line))
}

enum Source {
    File {
        path: PathBuf,
        gzip: bool,
    },
    Stdin,
    /// `-` given again: standard input was read by the first one.
    Empty,
}

/// One input: where it is, its anchor time, and (for standard input) the
/// bytes already read.
pub struct Input {
    /// Name for reports (`-` for standard input).
    pub name: String,
    /// Modification time (now for standard input), µs since the epoch.
    pub mtime_us: i64,
    source: Source,
    /// Standard input only: the bytes read so far (the head).
    head: Vec<u8>,
    /// Standard input only: the whole input, once copied.
    spool: Option<File>,
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn read_up_to(r: &mut impl Read, n: usize, out: &mut Vec<u8>) -> std::io::Result<bool> {
    let got = r.take(n as u64).read_to_end(out)?;
    Ok(got < n)
}

impl Input {
    /// Opens `path` (`-`: standard input) far enough to know what it is.
    /// `stdin_taken` is set by the first `-`; a later `-` is empty (the
    /// first one reads all of standard input).
    pub fn open(path: &Path, stdin_taken: &mut bool) -> Result<Input, Error> {
        let io = |e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        };
        if path == Path::new("-") {
            let taken = std::mem::replace(stdin_taken, true);
            return Ok(Input {
                name: "-".into(),
                mtime_us: now_us(),
                source: if taken { Source::Empty } else { Source::Stdin },
                head: Vec::new(),
                spool: None,
            });
        }
        let mut f = File::open(path).map_err(io)?;
        let meta = f.metadata().map_err(io)?;
        let mtime_us = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or_else(now_us, |d| d.as_micros() as i64);
        let mut magic = Vec::with_capacity(2);
        read_up_to(&mut f, 2, &mut magic).map_err(io)?;
        Ok(Input {
            name: path.display().to_string(),
            mtime_us,
            source: Source::File {
                path: path.to_path_buf(),
                gzip: magic == [0x1f, 0x8b],
            },
            head: Vec::new(),
            spool: None,
        })
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::Io {
            path: PathBuf::from(&self.name),
            source: e,
        }
    }

    /// The first [`HEAD_BYTES`] of the (decompressed) input, cut after
    /// its last complete line unless the input ends there.
    pub fn head(&mut self) -> Result<Vec<u8>, Error> {
        let (mut head, complete) = match &self.source {
            Source::File { .. } => {
                let name = PathBuf::from(&self.name);
                let mut r = self.reader()?;
                let mut head = Vec::new();
                let all = read_up_to(&mut r, HEAD_BYTES, &mut head).map_err(|e| Error::Io {
                    path: name,
                    source: e,
                })?;
                (head, all)
            }
            Source::Empty => (Vec::new(), true),
            Source::Stdin => {
                let mut head = std::mem::take(&mut self.head);
                let want = HEAD_BYTES.saturating_sub(head.len());
                let all = read_up_to(&mut std::io::stdin().lock(), want, &mut head)
                    .map_err(|e| self.io(e))?;
                self.head = head.clone();
                (head, all)
            }
        };
        if !complete {
            if let Some(nl) = head.iter().rposition(|&c| c == b'\n') {
                head.truncate(nl + 1);
            }
        }
        Ok(head)
    }

    /// A stream of the whole (decompressed) input from its start. For
    /// standard input this consumes it, unless [`spool`](Self::spool) was
    /// called first.
    pub fn reader(&mut self) -> Result<Box<dyn Read + '_>, Error> {
        match &self.source {
            Source::File { path, gzip } => {
                let f = File::open(path).map_err(|e| self.io(e))?;
                Ok(if *gzip {
                    Box::new(flate2::read::MultiGzDecoder::new(
                        std::io::BufReader::with_capacity(CHUNK, f),
                    ))
                } else {
                    Box::new(f)
                })
            }
            Source::Empty => Ok(Box::new(std::io::empty())),
            Source::Stdin => match &mut self.spool {
                Some(f) => {
                    f.seek(SeekFrom::Start(0)).map_err(|e| Error::Io {
                        path: "-".into(),
                        source: e,
                    })?;
                    Ok(Box::new(&*f))
                }
                None => {
                    let head = std::mem::take(&mut self.head);
                    Ok(Box::new(Cursor::new(head).chain(std::io::stdin().lock())))
                }
            },
        }
    }

    /// Makes the input readable more than once: standard input is copied
    /// into an unnamed temporary file (files need nothing).
    pub fn spool(&mut self) -> Result<(), Error> {
        if !matches!(self.source, Source::Stdin) || self.spool.is_some() {
            return Ok(());
        }
        let io = |e| Error::Io {
            path: "-".into(),
            source: e,
        };
        let mut f = tempfile::tempfile().map_err(io)?;
        f.write_all(&self.head).map_err(io)?;
        self.head = Vec::new();
        std::io::copy(&mut std::io::stdin().lock(), &mut f).map_err(io)?;
        self.spool = Some(f);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8], chunk: usize) -> Vec<Vec<u8>> {
        // a reader returning at most `chunk` bytes per read
        struct Slow<'a>(&'a [u8], usize);
        impl Read for Slow<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = LineReader::new(Slow(data, chunk));
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            match l {
                Line::Text(t) => out.push(t.to_vec()),
                Line::TooLong(t) => out.push([b"LONG:", &t[..4]].concat()),
            }
        }
        out
    }

    #[test]
    fn line_reader_splits_like_lines() {
        for data in [
            &b""[..],
            b"a",
            b"a\n",
            b"a\nb",
            b"a\r\nb\r\n\n\nc\r",
            b"\n\n",
            b"0123456789abcdefg\nxyz0123456789abcdefghij\n",
        ] {
            let want: Vec<Vec<u8>> = lines(data).map(|l| l.to_vec()).collect();
            for chunk in [1, 3, 7, 100] {
                assert_eq!(all(data, chunk), want, "{data:?} by {chunk}");
            }
        }
    }

    #[test]
    fn line_reader_splits_long_random_input_like_lines() {
        let mut rng = crate::TestRng(0x9E37_79B9_7F4A_7C15);
        for len in [63, 64, 65, 127, 200, 5000, 70_000] {
            let data: Vec<u8> = (0..len)
                .map(|_| b"ab \n\r\0xyzw"[rng.below(10) as usize])
                .collect();
            let want: Vec<Vec<u8>> = lines(&data).map(|l| l.to_vec()).collect();
            for chunk in [1, 7, 64, 100, 4096, 1 << 20] {
                assert_eq!(all(&data, chunk), want, "len {len} by {chunk}");
            }
        }
    }

    #[test]
    fn find_byte_finds_the_first() {
        let h = b"abcdefghijklmnopqrstuvwxyz\nq\n";
        for s in 0..h.len() {
            assert_eq!(
                find_byte(&h[s..], b'\n'),
                h[s..].iter().position(|&c| c == b'\n')
            );
        }
        assert_eq!(find_byte(&[0x80, 0x0a, 0x0b], 0x0b), Some(2));
        assert_eq!(find_byte(&[0xff; 9], 0x7f), None);
    }

    #[test]
    fn long_lines_and_nul_runs_stay_bounded() {
        let mut data = vec![b'x'; MAX_LINE + 10];
        data.extend_from_slice(b"\nok\n");
        data.extend(std::iter::repeat_n(0u8, MAX_LINE * 2));
        data.extend_from_slice(b"after nuls\nend");
        for chunk in [1 << 16, 3 << 20] {
            let got = all(&data, chunk);
            let short: Vec<String> = got
                .iter()
                .map(|l| {
                    // a NUL run may be cut to any length >= 1
                    let n = l.iter().take_while(|&&c| c == 0).count();
                    let l = &l[n.saturating_sub(1)..];
                    String::from_utf8_lossy(&l[..l.len().min(20)]).into_owned()
                })
                .collect();
            assert_eq!(short, ["LONG:xxxx", "ok", "\0after nuls", "end"]);
        }
    }
}
