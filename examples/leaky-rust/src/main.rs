//! A tiny "service" that leaks memory the way real ones do, and dumps its
//! heap as pprof profiles with jemalloc_pprof (what a Rust service serves on
//! `/debug/pprof/heap`). rprof's tests symbolize those raw-address profiles
//! from this binary's DWARF.
//!
//! `leaky-rust OUTDIR` writes OUTDIR/base.heap after BASE_SESSIONS sessions
//! and OUTDIR/current.heap after TOTAL_SESSIONS. Every session keeps a
//! SESSION_BUF-byte buffer and its user name forever (the leak); each
//! request also allocates a scratch buffer that is freed (not in-use).

use std::hint::black_box;
use std::sync::Mutex;

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// Sample every allocation (lg_prof_sample:0) so that in-use values are exact.
#[allow(non_upper_case_globals)]
#[export_name = "malloc_conf"]
pub static malloc_conf: &[u8] = b"prof:true,prof_active:true,lg_prof_sample:0\0";

pub const BASE_SESSIONS: u64 = 100;
pub const TOTAL_SESSIONS: u64 = 300;
pub const SESSION_BUF: usize = 64 * 1024;
pub const NAME_CAPACITY: usize = 4096;

pub struct Session {
    pub id: u64,
    pub user: Vec<u8>,
    pub buf: Vec<u8>,
}

static SESSIONS: Mutex<Vec<Session>> = Mutex::new(Vec::new());

/// Inlined into `new_session`: its allocation shows as an inline frame.
#[inline(always)]
fn user_name(id: u64) -> Vec<u8> {
    let mut name = Vec::with_capacity(NAME_CAPACITY);
    name.extend_from_slice(b"user-");
    name.extend_from_slice(id.to_string().as_bytes());
    name
}

#[inline(never)]
pub fn new_session(id: u64) -> Session {
    let user = user_name(id);
    let buf = vec![1u8; SESSION_BUF];
    Session { id, user, buf }
}

#[inline(never)]
fn scratch_work(id: u64) -> u64 {
    let scratch = vec![id as u8; 8 * 1024];
    black_box(&scratch).iter().map(|&b| b as u64).sum()
}

#[inline(never)]
pub fn handle_request(id: u64) {
    let s = new_session(id);
    black_box(scratch_work(id));
    if let Ok(mut all) = SESSIONS.lock() {
        all.push(s);
    }
}

fn dump(path: &std::path::Path) -> Result<(), String> {
    let ctl = jemalloc_pprof::PROF_CTL
        .as_ref()
        .ok_or("jemalloc profiling is not enabled")?;
    let mut ctl = ctl.blocking_lock();
    if !ctl.activated() {
        return Err("jemalloc profiling is not active".into());
    }
    let pprof = ctl.dump_pprof().map_err(|e| e.to_string())?;
    std::fs::write(path, pprof).map_err(|e| format!("{}: {e}", path.display()))
}

fn main() {
    let Some(out) = std::env::args_os().nth(1) else {
        eprintln!("usage: leaky-rust OUTDIR");
        std::process::exit(2);
    };
    let out = std::path::PathBuf::from(out);
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("leaky-rust: {}: {e}", out.display());
        std::process::exit(1);
    }
    for id in 0..TOTAL_SESSIONS {
        handle_request(id);
        if id + 1 == BASE_SESSIONS {
            if let Err(e) = dump(&out.join("base.heap")) {
                eprintln!("leaky-rust: {e}");
                std::process::exit(1);
            }
        }
    }
    if let Err(e) = dump(&out.join("current.heap")) {
        eprintln!("leaky-rust: {e}");
        std::process::exit(1);
    }
    let n = SESSIONS.lock().map(|s| s.len()).unwrap_or(0);
    println!("{n} sessions");
}
