//! Separate debug files: a stripped binary's DWARF installed elsewhere,
//! found by build id (`/usr/lib/debug/.build-id/ab/cdef….debug`) or by its
//! `.gnu_debuglink` name (next to the binary, in `.debug/`, or under the
//! debug directory), the places gdb and binutils' addr2line look; and the
//! supplementary file dwz shares between debug files (`.gnu_debugaltlink`).

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

/// The supplementary DWARF file named by `.gnu_debugaltlink` in `obj` (at
/// `path`): the named path (relative to the debug file's directory), else
/// by its build id under the debug directories; its build id must match.
pub fn find_altlink(obj: &object::File, path: &Path, debug_dirs: &[PathBuf]) -> Option<Binary> {
    use object::Object;
    let (name, id) = obj.gnu_debugaltlink().ok().flatten()?;
    let name = PathBuf::from(String::from_utf8_lossy(name).into_owned());
    let id = super::binary::hex(id);
    let mut candidates = Vec::new();
    if name.is_absolute() {
        candidates.push(name.clone());
    } else if let Some(dir) = path.parent() {
        candidates.push(dir.join(&name));
    }
    if id.len() > 2 {
        for d in debug_dirs {
            candidates.push(
                d.join(".build-id")
                    .join(&id[..2])
                    .join(format!("{}.debug", &id[2..])),
            );
        }
    }
    candidates
        .into_iter()
        .filter(|p| p.is_file())
        .filter_map(|p| Binary::open(&p).ok())
        .find(|b| b.build_id.as_deref() == Some(id.as_str()))
}
