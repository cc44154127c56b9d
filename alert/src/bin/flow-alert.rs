//! flow-alert: the cron "bad guys" report. Runs filter.cfg definitions
//! over the flow files finished since the last run and reports what
//! matched; silent (exit 0) when nothing did.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use alert::{mail::MailConfig, Config, Format, EXIT_ERROR};
use clap::{Parser, ValueEnum};
use flowio::cli;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Text,
    Json,
}

/// Reports the flows that filter.cfg definitions match in the files the
/// collector finished since the last run. Prints nothing and exits 0 when
/// nothing matched; exits 1 after writing (or mailing) a report, 2 on
/// errors (then the state is not advanced).
#[derive(Parser, Debug)]
#[command(name = "flow-alert", version, args_override_self = true)]
struct Args {
    /// The collector's flow directory.
    #[arg(short = 'd', long = "flow-dir", value_name = "FLOWDIR")]
    flow_dir: PathBuf,
    /// The filter configuration (flow-tools filter.cfg).
    #[arg(short = 'f', long = "filter-file", value_name = "FILE")]
    filter_file: PathBuf,
    /// Definitions to report, comma-separated (the option may repeat).
    #[arg(
        short = 'F',
        long = "definitions",
        value_name = "DEF[,DEF...]",
        required = true
    )]
    definitions: Vec<String>,
    /// Variable for the filter configuration: NAME=value.
    #[arg(short = 'v', value_name = "NAME=value")]
    vars: Vec<String>,
    /// Directory of flow-tools symbol tables (else FLOWTOOLS_SYMDIR).
    #[arg(long, value_name = "DIR")]
    symdir: Option<PathBuf>,
    /// State file recording the files already reported (default:
    /// `$XDG_STATE_HOME/flow-alert/<dir>-<hash of dir, filter, definitions>.state`).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Look-back of the first run, when there is no state yet.
    #[arg(long = "first-window", value_name = "DURATION", default_value = "1h")]
    first_window: String,
    /// How long the state remembers reported files (files finishing later than this are not reported).
    #[arg(long = "state-keep", value_name = "DURATION", default_value = "7d")]
    state_keep: String,
    /// Ad-hoc run: flows that started at or after TIME (the state is neither used nor changed).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    since: Option<String>,
    /// Ad-hoc run: flows that started before TIME (the state is neither used nor changed).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    until: Option<String>,
    /// Rows in the top sources and top destinations tables.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
    /// Raw flows shown per definition (flow-print -f 5 form).
    #[arg(long, value_name = "N", default_value_t = 10)]
    samples: usize,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    format: FormatArg,
    /// Write a report even when nothing matched (the exit status stays 0).
    #[arg(long)]
    always: bool,
    /// Mail the report to ADDR (repeatable or comma-separated) through sendmail instead of printing it.
    #[arg(long = "mail-to", value_name = "ADDR")]
    mail_to: Vec<String>,
    /// The From: address of the mail.
    #[arg(long = "mail-from", value_name = "ADDR")]
    mail_from: Option<String>,
    /// Text put before the subject line.
    #[arg(
        long = "subject-prefix",
        value_name = "TEXT",
        default_value = "[flow-alert]"
    )]
    subject_prefix: String,
    /// The sendmail program (run as `sendmail -t -oi`).
    #[arg(long, value_name = "PATH", default_value = "/usr/sbin/sendmail")]
    sendmail: PathBuf,
    /// How long sendmail may take.
    #[arg(long = "mail-timeout", value_name = "DURATION", default_value = "60s")]
    mail_timeout: String,
    /// How long to wait for an overlapping run to release the state.
    #[arg(long = "lock-wait", value_name = "DURATION", default_value = "60s")]
    lock_wait: String,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0, value_name = "N")]
    threads: usize,
    /// Pretend the current time is TIME (tests, replays).
    #[arg(long, value_name = "TIME", hide = true)]
    now: Option<String>,
}

fn duration(s: &str, option: &'static str) -> Result<i64, alert::Error> {
    flowio::timeparse::parse_duration(s).ok_or_else(|| alert::Error::BadDuration {
        option,
        given: s.to_string(),
    })
}

fn config(args: Args) -> Result<Config, alert::Error> {
    let real_now = chrono::Utc::now().timestamp();
    let now = match &args.now {
        Some(t) => {
            flowio::timeparse::parse_time(t, real_now).map_err(|reason| alert::Error::BadTime {
                option: "--now",
                given: t.clone(),
                reason: reason.to_string(),
            })?
        }
        None => real_now,
    };
    let mut vars = Vec::new();
    for v in &args.vars {
        match v.split_once('=') {
            Some((k, val)) => vars.push((k.to_string(), val.to_string())),
            None => return Err(alert::Error::BadVariable(v.clone())),
        }
    }
    let to: Vec<String> = args
        .mail_to
        .iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    let mail = if to.is_empty() {
        if !args.mail_to.is_empty() {
            return Err(alert::Error::NoMailAddress);
        }
        None
    } else {
        Some(MailConfig {
            to,
            from: args.mail_from.clone(),
            subject_prefix: args.subject_prefix.clone(),
            sendmail: args.sendmail.clone(),
            timeout: Duration::from_secs(duration(&args.mail_timeout, "--mail-timeout")? as u64),
        })
    };
    Ok(Config {
        warnings: cli::printed_warnings(),
        flow_dir: args.flow_dir,
        filter_file: args.filter_file,
        definitions: alert::split_definitions(&args.definitions),
        vars,
        symdir: args.symdir,
        state: args.state,
        first_window_secs: duration(&args.first_window, "--first-window")?,
        keep_secs: duration(&args.state_keep, "--state-keep")?,
        since: args.since,
        until: args.until,
        now,
        top: args.top,
        samples: args.samples,
        format: match args.format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
        },
        always: args.always,
        mail,
        threads: args.threads,
        lock_wait: Duration::from_secs(duration(&args.lock_wait, "--lock-wait")? as u64),
    })
}

fn main() -> ExitCode {
    // clap exits 2 on usage errors, 0 for --help/--version.
    let args = Args::parse();
    let result = config(args).and_then(|cfg| {
        let mut out = std::io::stdout().lock();
        alert::run(&cfg, &mut out)
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            cli::warn(e);
            ExitCode::from(EXIT_ERROR)
        }
    }
}
