use std::process::ExitCode;

use rprof::driver::{self, StderrUi};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("rprof: {msg}");
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

fn run(args: &[String]) -> Result<(), String> {
    let inv = rprof::cli::parse(args)?;
    if inv.help {
        print!("{}", rprof::cli::usage());
        return Ok(());
    }
    if !inv.http.is_empty() {
        return Err("-http (web interface) is not supported".into());
    }
    let mut ui = StderrUi;
    let timings = std::env::var_os("RPROF_TIMINGS").is_some();
    let start = std::time::Instant::now();
    let p = driver::fetch_profiles(&inv.sources).map_err(|e| e.to_string())?;
    if timings {
        eprintln!(
            "rprof: load+merge {:?}, peak {}",
            start.elapsed(),
            peak_rss()
        );
    }
    let Some(cmd) = inv.command else {
        return rprof::shell::Shell::new(p, inv.config)
            .run()
            .map_err(|e| e.to_string());
    };
    let t = std::time::Instant::now();
    let mut rpt =
        driver::prepare_report(&p, &cmd, &inv.config, &mut ui).map_err(|e| e.to_string())?;
    if timings {
        eprintln!("rprof: prepare {:?}, peak {}", t.elapsed(), peak_rss());
    }
    let t = std::time::Instant::now();
    let out = driver::render(&mut rpt, &cmd).map_err(|e| e.to_string())?;
    if timings {
        eprintln!("rprof: render {:?}, peak {}", t.elapsed(), peak_rss());
    }
    driver::deliver(&cmd, &out, &inv.config.output, false).map_err(|e| e.to_string())
}
