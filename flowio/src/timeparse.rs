//! The time arguments of the query tools (flow-cat `-t/-T`, every
//! `--since/--until`, flow-alert's `--now`): a thin wrapper over the
//! suite's one date parser, [`filterlang::date`], in the process's local
//! zone (`TZ`, as flow-tools' getdate). The forms it takes are listed
//! there: getdate's (`November 21, 2026 20:35:29`, `yesterday`,
//! `last monday`, `@1795293329`, ...) and ours (`-1h`, RFC 3339, bare unix
//! seconds).

use filterlang::date::{self, Zone};

pub use filterlang::date::parse_duration;

/// Reads the time argument `s` as unix seconds in the local zone;
/// relative forms count from `now` (unix seconds).
pub fn parse_time(s: &str, now: i64) -> Result<i64, filterlang::FilterError> {
    date::parse_date(s, now, Zone::Local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoned_and_relative_forms_need_no_local_zone() {
        let now = 1_795_313_960;
        assert_eq!(parse_time("-1h", now), Ok(now - 3600));
        assert_eq!(parse_time("-1h30m", now), Ok(now - 5400));
        assert_eq!(parse_time("now", now), Ok(now));
        assert_eq!(parse_time("2 hours ago", now), Ok(now - 7200));
        assert_eq!(parse_time("@1000", now), Ok(1000));
        assert_eq!(parse_time("2026-11-22T03:00:00Z", now), Ok(1_795_316_400));
        assert_eq!(
            parse_time("2026-11-22 03:00:00+0000", now),
            Ok(1_795_316_400)
        );
        assert_eq!(
            parse_time("Sat, 21 Nov 2026 20:35:29 -0600", now),
            Ok(1_795_314_929)
        );
        assert!(parse_time("yesterday-ish", now).is_err());
        assert!(parse_time("@9223372036854776", now).is_err());
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("5"), None);
    }
}
