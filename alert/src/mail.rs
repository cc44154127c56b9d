//! Delivery by mail: a complete message (headers, subject, body) piped to
//! `sendmail -t -oi`, whose exit status decides success. Nothing here
//! speaks SMTP.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// Where and how to mail the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailConfig {
    /// Recipients.
    pub to: Vec<String>,
    /// The `From:` address; `None` lets sendmail choose.
    pub from: Option<String>,
    /// Put before the report's subject line.
    pub subject_prefix: String,
    /// The sendmail program.
    pub sendmail: PathBuf,
    /// How long sendmail may take before it is killed and the delivery
    /// counts as failed.
    pub timeout: Duration,
}

/// Checks an address for what would break or inject headers.
pub fn check_address(a: &str) -> Result<(), Error> {
    let ok = !a.is_empty()
        && a.contains('@')
        && !a
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == ',' || c == ';');
    if ok {
        Ok(())
    } else {
        Err(Error::BadMailAddress(a.to_string()))
    }
}

/// The whole message: headers, an empty line, the body.
pub fn message(cfg: &MailConfig, subject: &str, body: &str, json: bool, now: i64) -> String {
    let date = chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .with_timezone(&chrono::Local)
        .to_rfc2822();
    let mut m = String::with_capacity(body.len() + 512);
    m.push_str(&format!("To: {}\n", cfg.to.join(", ")));
    if let Some(f) = &cfg.from {
        m.push_str(&format!("From: {f}\n"));
    }
    let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
    let prefix = if cfg.subject_prefix.is_empty() {
        String::new()
    } else {
        format!("{} ", cfg.subject_prefix)
    };
    m.push_str(&format!("Subject: {prefix}{subject}\n"));
    m.push_str(&format!("Date: {date}\n"));
    m.push_str("MIME-Version: 1.0\n");
    let kind = if json {
        "application/json"
    } else {
        "text/plain"
    };
    m.push_str(&format!("Content-Type: {kind}; charset=utf-8\n"));
    m.push_str("Content-Transfer-Encoding: 8bit\n");
    m.push_str("Auto-Submitted: auto-generated\n");
    m.push('\n');
    m.push_str(body);
    if !body.ends_with('\n') {
        m.push('\n');
    }
    m
}

/// Pipes `msg` to `sendmail -t -oi`; fails unless it exits with status 0
/// within the timeout.
pub fn send(cfg: &MailConfig, msg: &str) -> Result<(), Error> {
    let program = || cfg.sendmail.clone();
    let mut child = Command::new(&cfg.sendmail)
        .arg("-t")
        .arg("-oi")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| Error::MailSpawn {
            program: program(),
            source,
        })?;
    let Some(mut stdin) = child.stdin.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(Error::MailNoPipe { program: program() });
    };
    let bytes = msg.as_bytes().to_vec();
    // A separate writer, so a sendmail that stops reading cannot block us
    // past the timeout.
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let deadline = Instant::now() + cfg.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::MailTimeout {
                    program: program(),
                    timeout: cfg.timeout,
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(source) => {
                return Err(Error::MailWait {
                    program: program(),
                    source,
                })
            }
        }
    };
    let written = writer.join();
    if !status.success() {
        return Err(Error::MailFailed {
            program: program(),
            status,
        });
    }
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(Error::MailShortRead {
            program: program(),
            source,
        }),
        Err(_) => Err(Error::MailWriter { program: program() }),
    }
}

/// How a program that failed ended, for [`Error::MailFailed`]:
/// `exit status 75`, or `a signal`.
pub fn status_text(status: std::process::ExitStatus) -> String {
    match status.code() {
        Some(c) => format!("exit status {c}"),
        None => "a signal".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn addresses_cannot_inject_headers() {
        assert!(check_address("noc@example.net").is_ok());
        assert!(check_address("noc@example.net\nBcc: x@y").is_err());
        assert!(check_address("a@b, c@d").is_err());
        assert!(check_address("nobody").is_err());
    }

    #[test]
    fn a_bad_address_is_named() {
        let e = check_address("nobody").expect_err("no @");
        assert!(
            matches!(&e, Error::BadMailAddress(a) if a == "nobody"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "\"nobody\" is not a mail address (expected user@host)"
        );
    }

    fn config(sendmail: &str) -> MailConfig {
        MailConfig {
            to: vec!["noc@example.net".into()],
            from: None,
            subject_prefix: String::new(),
            sendmail: sendmail.into(),
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn a_failing_sendmail_is_an_error_with_its_status() {
        let e = send(&config("/bin/false"), "To: x\n\nbody\n").expect_err("/bin/false fails");
        match &e {
            Error::MailFailed { program, status } => {
                assert_eq!(program, Path::new("/bin/false"));
                assert_eq!(status.code(), Some(1));
            }
            other => panic!("expected MailFailed, got {other:?}"),
        }
        assert_eq!(e.to_string(), "/bin/false failed with exit status 1");
    }

    #[test]
    fn a_missing_sendmail_is_an_error_naming_it() {
        let e = send(&config("/nonexistent/sendmail"), "x").expect_err("cannot run");
        assert!(matches!(&e, Error::MailSpawn { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "cannot run /nonexistent/sendmail: No such file or directory"
        );
    }

    #[test]
    fn message_has_headers_then_body() {
        let cfg = MailConfig {
            to: vec!["noc@example.net".into(), "sec@example.net".into()],
            from: Some("flows@example.net".into()),
            subject_prefix: "[flow-alert]".into(),
            sendmail: "/bin/false".into(),
            timeout: Duration::from_secs(1),
        };
        let m = message(&cfg, "2 suspicious flows", "body\n", false, 0);
        assert!(m.starts_with("To: noc@example.net, sec@example.net\nFrom: flows@example.net\nSubject: [flow-alert] 2 suspicious flows\nDate: "));
        assert!(m.ends_with("\nAuto-Submitted: auto-generated\n\nbody\n"));
    }
}
