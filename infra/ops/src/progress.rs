//! Progress on long work, on stderr: one line redrawn on a terminal, a line per tenth elsewhere
//! (a CI log), so stdout keeps only the results.

use std::io::{IsTerminal, Write};

pub struct Progress {
    what: String,
    done: u64,
    total: Option<u64>,
    terminal: bool,
    last_tenth: u64,
}

impl Progress {
    pub fn new(what: &str, total: Option<u64>) -> Progress {
        Progress {
            what: what.to_string(),
            done: 0,
            total,
            terminal: std::io::stderr().is_terminal(),
            last_tenth: 0,
        }
    }

    pub fn add(&mut self, n: u64) {
        self.done += n;
        if self.terminal {
            eprint!("\r{}", self.line());
            let _ = std::io::stderr().flush();
            return;
        }
        let tenth = match self.total {
            Some(total) if total > 0 => self.done * 10 / total,
            _ => self.done / 100,
        };
        if tenth > self.last_tenth {
            self.last_tenth = tenth;
            eprintln!("{}", self.line());
        }
    }

    pub fn finish(self) {
        if self.terminal {
            eprintln!("\r{}", self.line());
        } else if self.done == 0 || self.last_tenth == 0 {
            eprintln!("{}", self.line());
        }
    }

    fn line(&self) -> String {
        match self.total {
            Some(total) => format!("{}: {}/{total}", self.what, self.done),
            None => format!("{}: {}", self.what, self.done),
        }
    }
}
