//! Tab completion: commands, option names, option values and function
//! names from the loaded profile. (`go tool pprof` completes almost none of
//! this; here it is the point.)

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::driver::{self, COMMANDS};
use crate::options::{self, Kind};

/// What can be completed, gathered once from the profile.
pub struct Completions {
    /// Distinct function names, sorted.
    pub functions: Vec<String>,
    /// Sample type names.
    pub sample_types: Vec<String>,
}

/// Options whose value is a regexp over function names.
const REGEX_OPTIONS: &[&str] = &["focus", "ignore", "hide", "show", "show_from", "prune_from"];

fn words_first_token(sample_types: &[String]) -> Vec<String> {
    let mut words: Vec<String> = COMMANDS.iter().map(|c| c.name.to_string()).collect();
    words.extend(["o", "options", "help", "quit", "exit"].map(String::from));
    for f in options::FIELDS {
        words.push(f.name.to_string());
        if let Kind::Choice(choices) = f.kind {
            words.extend(choices.iter().map(|c| c.to_string()));
        }
    }
    for t in sample_types {
        words.push(t.clone());
        words.push(format!("mean_{t}"));
        words.push(format!("total_{t}"));
    }
    words.sort();
    words.dedup();
    words
}

impl Completions {
    /// Completes the word ending at `pos`: returns where it starts and the
    /// candidates that replace it.
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = before
            .rfind(|c: char| c.is_whitespace() || c == '=')
            .map_or(0, |i| i + 1);
        let word = &before[start..];
        let head = before[..start].trim_end();

        // `name=value`: complete the value.
        if let Some(name) = head.strip_suffix('=').map(str::trim) {
            if !name.contains(char::is_whitespace) {
                return (start, self.option_values(name, word));
            }
        }
        let tokens: Vec<&str> = head.split_whitespace().collect();
        match tokens.first() {
            None => (start, prefixed(words_first_token(&self.sample_types), word)),
            Some(&"help") => {
                let mut words: Vec<String> = COMMANDS.iter().map(|c| c.name.to_string()).collect();
                words.extend(options::FIELDS.iter().map(|f| f.name.to_string()));
                words.sort();
                words.dedup();
                (start, prefixed(words, word))
            }
            Some(cmd) if driver::lookup(cmd).is_some_and(|c| !c.filters_tags) => {
                // `-name` ignores, `name` focuses: complete the function part.
                let (dash, w) = match word.strip_prefix('-') {
                    Some(rest) => ("-", rest),
                    None => ("", word),
                };
                let cands = self
                    .function_matches(w)
                    .into_iter()
                    .map(|f| format!("{dash}{}", regex::escape(&f)))
                    .collect();
                (start, cands)
            }
            _ => (start, Vec::new()),
        }
    }

    fn option_values(&self, name: &str, word: &str) -> Vec<String> {
        let Some(f) = options::field(name) else {
            return Vec::new();
        };
        if f.name == "sample_index" {
            return prefixed(self.sample_types.clone(), word);
        }
        if REGEX_OPTIONS.contains(&f.name) {
            return self
                .function_matches(word)
                .into_iter()
                .map(|f| regex::escape(&f))
                .collect();
        }
        match f.kind {
            Kind::Bool => prefixed(vec!["true".into(), "false".into()], word),
            Kind::Choice(c) if f.name == name => {
                prefixed(c.iter().map(|s| s.to_string()).collect(), word)
            }
            Kind::Choice(_) => prefixed(vec!["true".into(), "false".into()], word),
            _ if f.name == "unit" => prefixed(
                [
                    "minimum", "auto", "b", "kb", "mb", "gb", "ns", "us", "ms", "s",
                ]
                .map(String::from)
                .to_vec(),
                word,
            ),
            _ => Vec::new(),
        }
    }

    /// Function names starting with `w` first; if none, those containing it.
    fn function_matches(&self, w: &str) -> Vec<String> {
        // A regex-escaped name typed back is matched against the plain one.
        let plain = w.replace('\\', "");
        let starts: Vec<String> = self
            .functions
            .iter()
            .filter(|f| f.starts_with(&plain))
            .cloned()
            .collect();
        if !starts.is_empty() {
            return starts;
        }
        self.functions
            .iter()
            .filter(|f| f.contains(&plain))
            .cloned()
            .collect()
    }
}

fn prefixed(words: Vec<String>, prefix: &str) -> Vec<String> {
    words
        .into_iter()
        .filter(|w| w.starts_with(prefix))
        .collect()
}

/// rustyline glue.
pub struct ShellHelper {
    pub completions: Completions,
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, cands) = self.completions.complete(line, pos);
        Ok((
            start,
            cands
                .into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}
impl Highlighter for ShellHelper {}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps() -> Completions {
        Completions {
            functions: vec![
                "main.(*Server).handle".into(),
                "main.newSession".into(),
                "runtime.mallocgc".into(),
            ],
            sample_types: vec!["alloc_space".into(), "inuse_space".into()],
        }
    }

    #[test]
    fn commands_and_options() {
        let c = comps();
        assert_eq!(c.complete("pe", 2), (0, vec!["peek".to_string()]));
        assert_eq!(c.complete("nodeco", 6).1, vec!["nodecount"]);
        assert_eq!(
            c.complete("granularity=li", 14),
            (12, vec!["lines".to_string()])
        );
        assert_eq!(c.complete("sample_index=in", 15).1, vec!["inuse_space"]);
        assert_eq!(
            c.complete("help tr", 7).1,
            vec!["traces", "tree", "trim", "trim_path"]
        );
    }

    #[test]
    fn function_names_are_completed_as_regexps() {
        let c = comps();
        assert_eq!(
            c.complete("list main.new", 13),
            (5, vec!["main\\.newSession".to_string()])
        );
        assert_eq!(
            c.complete("peek Server", 11).1,
            vec!["main\\.\\(\\*Server\\)\\.handle"]
        );
        assert_eq!(c.complete("top -runt", 9).1, vec!["-runtime\\.mallocgc"]);
        assert_eq!(c.complete("focus=mall", 10).1, vec!["runtime\\.mallocgc"]);
    }
}
