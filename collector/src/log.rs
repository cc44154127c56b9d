//! Log lines and their rate limits.
//!
//! The library writes its lines through the `log` facade ([`line()`]); the
//! flow-capture binary installs [`StderrLogger`], which puts every line on
//! standard error as `flow-capture: <text>`, one `write` per line, which
//! is what systemd's journal (and `-D` users) expect. Without a logger
//! installed (a test driving the collector in-process) the lines go
//! nowhere. Causes that an exporter or an attacker can repeat at line rate
//! (malformed datagrams, rejected sources, drops) go through a
//! [`RateLimit`]: the first line of each cause is printed at once, further
//! ones at most once per interval, with the number suppressed meanwhile.

use std::io::Write;

/// Logs one line.
pub fn line(text: &str) {
    log::info!("{text}");
}

/// The logger flow-capture installs: `flow-capture: <text>` on standard
/// error, one `write` per line.
#[derive(Clone, Copy, Debug, Default)]
pub struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let s = format!("flow-capture: {}\n", record.args());
        let _ = std::io::stderr().lock().write_all(s.as_bytes());
    }

    fn flush(&self) {}
}

impl StderrLogger {
    /// Installs the logger for the process (once; later calls do nothing).
    pub fn install() {
        static LOGGER: StderrLogger = StderrLogger;
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    }
}

/// Rate limit for one cause of log lines.
#[derive(Clone, Debug)]
pub struct RateLimit {
    interval_ms: i64,
    next_ms: i64,
    suppressed: u64,
}

impl RateLimit {
    /// At most one line per `interval_ms` milliseconds.
    pub fn new(interval_ms: i64) -> Self {
        RateLimit {
            interval_ms,
            next_ms: i64::MIN,
            suppressed: 0,
        }
    }

    /// Asks to log at time `now_ms`. `Some(n)` means: log now, and say that
    /// `n` similar lines were suppressed since the last one; `None` means
    /// stay quiet (the line is counted as suppressed).
    pub fn allow(&mut self, now_ms: i64) -> Option<u64> {
        if now_ms >= self.next_ms {
            self.next_ms = now_ms.saturating_add(self.interval_ms);
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }

    /// Logs `text()` if allowed at `now_ms`, with a suppression note.
    pub fn log(&mut self, now_ms: i64, text: impl FnOnce() -> String) {
        if let Some(n) = self.allow(now_ms) {
            if n > 0 {
                line(&format!("{} ({n} similar lines suppressed)", text()));
            } else {
                line(&text());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_passes_then_one_per_interval() {
        let mut r = RateLimit::new(10_000);
        assert_eq!(r.allow(0), Some(0));
        assert_eq!(r.allow(1), None);
        assert_eq!(r.allow(9_999), None);
        assert_eq!(r.allow(10_000), Some(2));
        assert_eq!(r.allow(10_001), None);
        assert_eq!(r.allow(50_000), Some(1));
    }
}
