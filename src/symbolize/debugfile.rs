//! Separate debug files: a stripped binary's DWARF installed elsewhere,
//! found by build id (`/usr/lib/debug/.build-id/ab/cdef….debug`) or by its
//! `.gnu_debuglink` name (next to the binary, in `.debug/`, or under the
//! debug directory), the places gdb and binutils' addr2line look.

use std::path::{Path, PathBuf};

use super::binary::Binary;

/// Where to look for the debug file of `bin`, best first.
pub fn candidates(bin: &Binary, debug_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(id) = bin.build_id.as_deref().filter(|id| id.len() > 2) {
        for d in debug_dirs {
            out.push(
                d.join(".build-id")
                    .join(&id[..2])
                    .join(format!("{}.debug", &id[2..])),
            );
        }
    }
    if let Some(link) = bin.debuglink.as_deref().filter(|l| !l.contains('/')) {
        // The binary's real directory, so that a symlink to it still works.
        let real = std::fs::canonicalize(&bin.path).unwrap_or_else(|_| bin.path.clone());
        if let Some(dir) = real.parent() {
            out.push(dir.join(link));
            out.push(dir.join(".debug").join(link));
            for d in debug_dirs {
                out.push(join_absolute(d, dir).join(link));
            }
        }
    }
    // The debug link may name the binary itself (before it was stripped).
    out.retain(|p| !same_file(p, &bin.path));
    out
}

/// `root` + an absolute `dir` (`/usr/lib/debug` + `/usr/bin`).
fn join_absolute(root: &Path, dir: &Path) -> PathBuf {
    let rel: PathBuf = dir
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect();
    root.join(rel)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The first candidate that opens, has DWARF and, when both files have a
/// build id, the same one.
pub fn find(bin: &Binary, debug_dirs: &[PathBuf]) -> Option<Binary> {
    candidates(bin, debug_dirs)
        .into_iter()
        .filter(|p| p.is_file())
        .filter_map(|p| Binary::open(&p).ok())
        .find(|d| {
            d.has_dwarf
                && match (&bin.build_id, &d.build_id) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        })
}
