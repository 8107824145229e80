use std::io::Write;
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
    let p = driver::fetch_profiles(&inv.sources).map_err(|e| e.to_string())?;
    let Some(cmd) = inv.command else {
        return Err(
            "interactive mode is not implemented yet; pass an output format such as -top".into(),
        );
    };
    let out = driver::generate(&p, &cmd, &inv.config, &mut ui).map_err(|e| e.to_string())?;
    if !inv.config.output.is_empty() {
        eprintln!("Generating report in {}", inv.config.output);
        return std::fs::write(&inv.config.output, out)
            .map_err(|e| format!("{}: {e}", inv.config.output));
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
    {
        // `rprof -top big.pb.gz | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| format!("writing output: {e}")),
    }
}
