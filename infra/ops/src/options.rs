//! The command line, read by hand (a dozen flags do not need a parser crate).

use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub stack: String,
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub dry_run: bool,
    pub command: Command,
}

/// The contexts whose projections an operator rebuilds by replay through their own function
/// (analytics has its own rebuild, with generations: `rebuild`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replayed {
    Bidding,
    Billing,
}

impl Replayed {
    /// The replay function's logical id in the stack.
    pub fn function(self) -> &'static str {
        match self {
            Replayed::Bidding => "BiddingReplayFunction",
            Replayed::Billing => "BillingReplayFunction",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    DlqList,
    DlqShow {
        queue: String,
        max: usize,
    },
    DlqRedrive {
        queue: String,
        max: usize,
    },
    OutboxRepublish(Republish),
    CloseRerun {
        date: NaiveDate,
        function: Option<String>,
    },
    RebuildStart(Caller),
    /// N4: the archive replayed into one context's rules (`bidding`: its books' facts and the
    /// standings; `billing`: revenue's lines).
    Replay {
        context: Replayed,
        since: Option<DateTime<Utc>>,
        function: Option<String>,
    },
    RebuildStatus {
        id: String,
        wait: bool,
        args: Caller,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Republish {
    pub context: String,
    pub since: DateTime<Utc>,
    pub table: Option<String>,
    pub bus: Option<String>,
    pub work_queue: Option<String>,
}

/// Which function answers, and as which admin account.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Caller {
    pub function: Option<String>,
    pub account: Option<String>,
}

impl Options {
    /// Reads the command line; `Err("")` asks for the usage text.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        Self::parse_at(args, Utc::now())
    }

    fn parse_at(
        args: impl IntoIterator<Item = String>,
        now: DateTime<Utc>,
    ) -> Result<Options, String> {
        let mut stack = std::env::var("ATES_STACK").unwrap_or_else(|_| "ates".into());
        let mut endpoint_url = None;
        let mut region = None;
        let mut dry_run = false;
        let mut words = Vec::new();
        let mut flags: Vec<(String, Option<String>)> = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if !arg.starts_with("--") {
                words.push(arg);
                continue;
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            let takes_value = !matches!(flag.as_str(), "--dry-run" | "--wait" | "--help");
            let value = if takes_value {
                Some(
                    inline
                        .or_else(|| args.next())
                        .ok_or_else(|| format!("{flag} needs a value"))?,
                )
            } else {
                None
            };
            match flag.as_str() {
                "--help" => return Err(String::new()),
                "--stack" => stack = value.unwrap_or_default(),
                "--endpoint-url" => endpoint_url = value,
                "--region" => region = value,
                "--dry-run" => dry_run = true,
                _ => flags.push((flag, value)),
            }
        }
        let wait = flags.iter().any(|(f, _)| f == "--wait");
        flags.retain(|(f, _)| f != "--wait");
        let mut take = |name: &str| -> Option<String> {
            let at = flags.iter().position(|(f, _)| f == name)?;
            flags.remove(at).1
        };
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let max = |v: Option<String>| -> Result<usize, String> {
            v.map_or(Ok(50), |v| {
                v.parse().map_err(|_| format!("--max {v} is not a number"))
            })
        };
        let command = match words.as_slice() {
            ["dlq", "list"] => Command::DlqList,
            ["dlq", "show", queue] => Command::DlqShow {
                queue: queue.to_string(),
                max: max(take("--max"))?,
            },
            ["dlq", "redrive", queue] => Command::DlqRedrive {
                queue: queue.to_string(),
                max: take("--max").map_or(Ok(usize::MAX), |v| {
                    v.parse().map_err(|_| format!("--max {v} is not a number"))
                })?,
            },
            ["outbox", "republish"] => {
                let context = take("--context").ok_or("outbox republish needs --context")?;
                let since = take("--since").ok_or("outbox republish needs --since")?;
                Command::OutboxRepublish(Republish {
                    context,
                    since: since_time(&since, now)?,
                    table: take("--table"),
                    bus: take("--bus"),
                    work_queue: take("--work-queue"),
                })
            }
            ["close", "rerun"] => {
                let date = take("--date").ok_or("close rerun needs --date")?;
                Command::CloseRerun {
                    date: ates_kernel::calendar::parse_date(&date)
                        .ok_or_else(|| format!("--date {date} is not a YYYY-MM-DD date"))?,
                    function: take("--function"),
                }
            }
            ["rebuild", "start"] => Command::RebuildStart(Caller {
                function: take("--function"),
                account: take("--as"),
            }),
            ["rebuild", "status", id] => Command::RebuildStatus {
                id: id.to_string(),
                wait,
                args: Caller {
                    function: take("--function"),
                    account: take("--as"),
                },
            },
            ["replay", context] => Command::Replay {
                context: match *context {
                    "bidding" => Replayed::Bidding,
                    "billing" => Replayed::Billing,
                    other => return Err(format!("no replay of {other}: bidding or billing")),
                },
                since: take("--since")
                    .map(|since| since_time(&since, now))
                    .transpose()?,
                function: take("--function"),
            },
            [] => return Err("no command".into()),
            other => return Err(format!("unknown command: {}", other.join(" "))),
        };
        if let Some((flag, _)) = flags.first() {
            return Err(format!("{flag} is not an option of this command"));
        }
        Ok(Options {
            stack,
            endpoint_url,
            region,
            dry_run,
            command,
        })
    }
}

/// `--since`: an RFC 3339 time, or an age before `now` (`90s`, `30m`, `2h`, `1d`).
fn since_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let bad = || format!("--since {text}: an RFC 3339 time or an age such as 30m, 2h, 1d");
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    Ok(now - chrono::Duration::seconds(number * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<Options, String> {
        let now = DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Options::parse_at(args.split_whitespace().map(str::to_string), now)
    }

    #[test]
    fn commands_and_their_options_are_read() {
        let o = parse("--stack prod --dry-run dlq redrive TasksAccountEventsDeadLetters").unwrap();
        assert_eq!(o.stack, "prod");
        assert!(o.dry_run);
        assert_eq!(
            o.command,
            Command::DlqRedrive {
                queue: "TasksAccountEventsDeadLetters".into(),
                max: usize::MAX
            }
        );
        let o =
            parse("outbox republish --context tasks --since 2h --endpoint-url=http://x").unwrap();
        assert_eq!(o.endpoint_url.as_deref(), Some("http://x"));
        let Command::OutboxRepublish(r) = o.command else {
            panic!("{o:?}")
        };
        assert_eq!(r.since.to_rfc3339(), "2026-12-06T08:00:00+00:00");
        let o = parse("rebuild status 42 --wait").unwrap();
        assert!(matches!(
            o.command,
            Command::RebuildStatus { wait: true, .. }
        ));
        let o = parse("replay bidding --since 1d").unwrap();
        assert_eq!(
            o.command,
            Command::Replay {
                context: Replayed::Bidding,
                since: Some(
                    DateTime::parse_from_rfc3339("2026-12-05T10:00:00Z")
                        .unwrap()
                        .into()
                ),
                function: None
            }
        );
        let o = parse("replay billing").unwrap();
        assert!(matches!(
            o.command,
            Command::Replay {
                context: Replayed::Billing,
                since: None,
                ..
            }
        ));
        let o = parse("close rerun --date 2026-12-05").unwrap();
        assert!(matches!(o.command, Command::CloseRerun { .. }));
    }

    #[test]
    fn mistakes_are_refused() {
        assert!(parse("outbox republish --context tasks").is_err());
        assert!(parse("outbox republish --context tasks --since yesterday").is_err());
        assert!(parse("close rerun --date 2026-1-5").is_err());
        assert!(parse("dlq list --max 3").is_err());
        assert!(parse("replay orders").is_err());
        assert!(parse("dlq nope").is_err());
        assert_eq!(parse("--help").unwrap_err(), "");
    }
}
