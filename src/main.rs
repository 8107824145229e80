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
        return rprof::shell::Shell::new(p, inv.config)
            .run()
            .map_err(|e| e.to_string());
    };
    let out = driver::generate(&p, &cmd, &inv.config, &mut ui).map_err(|e| e.to_string())?;
    driver::deliver(&cmd, &out, &inv.config.output, false).map_err(|e| e.to_string())
}
