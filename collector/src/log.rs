//! Log lines and their rate limits.
//!
//! Every line goes to standard error as `flow-capture: <text>`, one
//! `write` per line, which is what systemd's journal (and `-D` users)
//! expect. Causes that an exporter or an attacker can repeat at line rate
//! (malformed datagrams, rejected sources, drops) go through a
//! [`RateLimit`]: the first line of each cause is printed at once, further
//! ones at most once per interval, with the number suppressed meanwhile.

use std::io::Write;

/// Writes one log line, prefixed with the program name.
pub fn line(text: &str) {
    let mut s = String::with_capacity(text.len() + 16);
    s.push_str("flow-capture: ");
    s.push_str(text);
    s.push('\n');
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
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
