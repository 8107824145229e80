use std::process::ExitCode;

use rprof::driver::{self, Error, StderrUi, Ui};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = driver::error_chain(&e);
            eprintln!("rprof: {}", rprof::ui::escape_controls(&msg));
            ExitCode::from(1)
        }
    }
}

/// Peak resident memory so far, for RPROF_TIMINGS (Linux; "" elsewhere).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_default()
}

fn run(args: &[String]) -> Result<(), Error> {
    let inv = match rprof::cli::parse(args) {
        // As pprof: no profile at all shows how to give one.
        Err(Error::Usage(m)) if m == rprof::cli::NO_SOURCE => {
            eprint!("{}", rprof::cli::usage());
            return Err(Error::Usage(m));
        }
        other => other?,
    };
    let mut ui = StderrUi;
    for w in &inv.warnings {
        ui.warn(w);
    }
    if inv.help {
        print!("{}", rprof::cli::usage());
        return Ok(());
    }
    if inv.version {
        println!("rprof {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    if !inv.http.is_empty() {
        if let Some(cmd) = &inv.command {
            return Err(Error::Usage(format!(
                "-http is not compatible with an output format (-{})",
                cmd.name()
            )));
        }
        // Checked before loading, so a typo does not wait for a fetch.
        rprof::web::parse_address(&inv.http)?;
        let p = driver::fetch_profiles_with(&inv.sources, &mut ui)?;
        let opts = rprof::web::WebOptions {
            http: inv.http.clone(),
            no_browser: inv.no_browser,
        };
        return rprof::web::serve(p, inv.config, inv.sources, &opts, &mut ui);
    }
    let timings = std::env::var_os("RPROF_TIMINGS").is_some();
    let timed = |what: &str, since: std::time::Instant| {
        if timings {
            eprintln!("rprof: {what} {:?}, peak {}", since.elapsed(), peak_rss());
        }
    };
    let start = std::time::Instant::now();
    let p = driver::fetch_profiles_with(&inv.sources, &mut ui)?;
    timed("load+merge", start);
    let Some(cmd) = inv.command else {
        return rprof::shell::Shell::new(p, inv.config).run();
    };
    let t = std::time::Instant::now();
    let mut rpt = driver::prepare_report(&p, &cmd, &inv.config, &mut ui)?;
    timed("prepare", t);
    let t = std::time::Instant::now();
    let done = driver::render_and_deliver(&mut rpt, &cmd, &inv.config.output, false, &mut ui);
    timed("render", t);
    done
}
