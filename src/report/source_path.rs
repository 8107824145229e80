//! Finding the source files named in a profile on this machine.
//!
//! First exactly as pprof does (so `list` prints what pprof prints whenever
//! pprof finds the file): trim build-machine prefixes, then join the name
//! with each `-source_path` directory and each of its parents. Only when
//! that fails, rprof also looks where Go and Rust toolchains keep sources:
//! `$GOROOT/src`, the Go module cache, `vendor/` directories, the Rust
//! sysroot's `library/` and the local cargo registry.

use std::cell::OnceCell;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::paths;

/// Toolchain locations searched after pprof's own search fails.
#[derive(Debug, Default)]
pub struct Fallbacks {
    /// `$GOROOT`: the standard library is under `src/`.
    pub goroot: Option<PathBuf>,
    /// The Go module cache (`$GOMODCACHE`, else `$GOPATH/pkg/mod`).
    pub gomodcache: Option<PathBuf>,
    /// `$CARGO_HOME` (default `~/.cargo`).
    pub cargo_home: Option<PathBuf>,
    /// The Rust sysroot; computed on first need since running `rustc`
    /// costs time and most profiles never name a `/rustc/` file.
    rust_sysroot: OnceCell<Option<PathBuf>>,
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Fallbacks {
    /// No fallbacks at all: pprof's search only.
    pub fn none() -> Fallbacks {
        Fallbacks {
            rust_sysroot: OnceCell::from(None),
            ..Default::default()
        }
    }

    /// Locations from the environment, with Go's and cargo's defaults.
    pub fn from_env() -> Fallbacks {
        let home = env_path("HOME");
        let gomodcache = env_path("GOMODCACHE").or_else(|| {
            let gopath = std::env::var_os("GOPATH").filter(|v| !v.is_empty());
            match gopath {
                // Go uses the first GOPATH entry for the module cache.
                Some(gp) => std::env::split_paths(&gp)
                    .next()
                    .map(|first| first.join("pkg/mod")),
                None => home.as_ref().map(|h| h.join("go/pkg/mod")),
            }
        });
        let cargo_home = env_path("CARGO_HOME").or_else(|| home.map(|h| h.join(".cargo")));
        let rust_sysroot = OnceCell::new();
        if let Some(s) = env_path("RUST_SYSROOT") {
            let _ = rust_sysroot.set(Some(s));
        }
        Fallbacks {
            goroot: env_path("GOROOT"),
            gomodcache,
            cargo_home,
            rust_sysroot,
        }
    }

    /// With an explicit Rust sysroot (or none), so `rustc` is never run.
    pub fn with_rust_sysroot(mut self, sysroot: Option<PathBuf>) -> Fallbacks {
        self.rust_sysroot = OnceCell::from(sysroot);
        self
    }

    fn rust_sysroot(&self) -> Option<&Path> {
        self.rust_sysroot
            .get_or_init(|| {
                let out = std::process::Command::new("rustc")
                    .args(["--print", "sysroot"])
                    .stderr(std::process::Stdio::null())
                    .output()
                    .ok()?;
                if !out.status.success() {
                    return None;
                }
                let s = String::from_utf8(out.stdout).ok()?;
                let s = s.trim();
                (!s.is_empty()).then(|| PathBuf::from(s))
            })
            .as_deref()
    }

    /// Where else `name` (a file name from a profile) may be, best first.
    pub fn candidates(&self, name: &str, search_path: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        self.go_std(name, &mut out);
        self.go_modules(name, &mut out);
        vendored(name, search_path, &mut out);
        self.rust_std(name, &mut out);
        self.cargo_sources(name, &mut out);
        out
    }

    /// `runtime/proc.go` (built with -trimpath), `$GOROOT/src/...`, or
    /// another machine's `/usr/local/go/src/runtime/proc.go`.
    fn go_std(&self, name: &str, out: &mut Vec<PathBuf>) {
        let Some(root) = &self.goroot else { return };
        let src = root.join("src");
        if let Some(rest) = name.strip_prefix("$GOROOT/") {
            out.push(root.join(rest));
        } else if is_relative(name) {
            out.push(src.join(name));
        } else {
            // Any `/src/` may end the other machine's GOROOT (which may
            // itself contain `/src/`): try each, leftmost first.
            for (i, _) in name.match_indices("/src/") {
                out.push(src.join(&name[i + "/src/".len()..]));
            }
        }
    }

    /// `example.com/Mod@v1.2.3/x.go` (-trimpath) is in the module cache
    /// under `example.com/!mod@v1.2.3/x.go`; an absolute path into another
    /// machine's cache (`.../pkg/mod/...`) is already escaped.
    fn go_modules(&self, name: &str, out: &mut Vec<PathBuf>) {
        let Some(cache) = &self.gomodcache else {
            return;
        };
        if is_relative(name) {
            if let Some(escaped) = escape_module_file(name) {
                out.push(cache.join(escaped));
            }
        } else if let Some(i) = name.rfind("/pkg/mod/") {
            out.push(cache.join(&name[i + "/pkg/mod/".len()..]));
        }
    }

    /// `/rustc/<commit>/library/core/src/...` is in the sysroot's
    /// `lib/rustlib/src/rust/library/...` (the rust-src component).
    fn rust_std(&self, name: &str, out: &mut Vec<PathBuf>) {
        let Some(rest) = name.strip_prefix("/rustc/") else {
            return;
        };
        let Some((_commit, rest)) = rest.split_once('/') else {
            return;
        };
        if let Some(sysroot) = self.rust_sysroot() {
            out.push(sysroot.join("lib/rustlib/src/rust").join(rest));
        }
    }

    /// `<cargo home>/registry/src/<index>/<crate>-<version>/...` of another
    /// machine, in the local cargo home: the same index directory first,
    /// then any other (the index directory name changed across cargo
    /// versions, the crate directory did not).
    fn cargo_sources(&self, name: &str, out: &mut Vec<PathBuf>) {
        let Some(home) = &self.cargo_home else { return };
        if let Some(i) = name.rfind("/registry/src/") {
            let rest = &name[i + "/registry/src/".len()..];
            let Some((index, in_index)) = rest.split_once('/') else {
                return;
            };
            let registry = home.join("registry/src");
            out.push(registry.join(index).join(in_index));
            let mut others: Vec<PathBuf> = std::fs::read_dir(&registry)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .filter(|e| e.file_name() != index)
                .map(|e| e.path().join(in_index))
                .collect();
            // Directory order is arbitrary: keep the choice reproducible.
            others.sort();
            out.extend(others);
        } else if let Some(i) = name.rfind("/git/checkouts/") {
            out.push(
                home.join("git/checkouts")
                    .join(&name[i + "/git/checkouts/".len()..]),
            );
        }
    }
}

fn is_relative(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('/')
}

/// `vendor/<import path>/file` under each search directory and its
/// parents; a module version in the name (-trimpath) is not part of the
/// vendored path.
fn vendored(name: &str, search_path: &str, out: &mut Vec<PathBuf>) {
    if !is_relative(name) || name.starts_with("../") {
        return;
    }
    let unversioned = strip_module_version(name);
    for dir in search_path.split(':') {
        for d in with_parents(dir) {
            out.push(PathBuf::from(go_join(&d, &format!("vendor/{name}"))));
            if let Some(u) = &unversioned {
                out.push(PathBuf::from(go_join(&d, &format!("vendor/{u}"))));
            }
        }
    }
}

/// `a.com/m@v1.0.0/x.go` → `a.com/m/x.go`.
fn strip_module_version(name: &str) -> Option<String> {
    let at = name.find('@')?;
    let after = &name[at..];
    let end = after.find('/').map_or(name.len(), |i| at + i);
    Some(format!("{}{}", &name[..at], &name[end..]))
}

/// Go's module cache escaping of the `module@version` part of a file name:
/// an upper-case letter becomes `!` and its lower-case form. `None` if the
/// name has no `@version` (then it is not a module file).
pub fn escape_module_file(name: &str) -> Option<String> {
    let at = name.find('@')?;
    let end = name[at..].find('/').map_or(name.len(), |i| at + i);
    let mut s = String::with_capacity(name.len() + 4);
    for c in name[..end].chars() {
        if c.is_ascii_uppercase() {
            s.push('!');
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s.push_str(&name[end..]);
    Some(s)
}

/// `dir`, then each parent up to the root (or `.`), as `filepath.Dir`
/// walks them.
fn with_parents(dir: &str) -> Vec<String> {
    let mut out = vec![dir.to_string()];
    let mut d = dir.to_string();
    loop {
        let parent = go_dir(&d);
        if parent == d {
            break;
        }
        out.push(parent.clone());
        d = parent;
    }
    out
}

/// `filepath.Dir`: all but the last element, cleaned.
fn go_dir(path: &str) -> String {
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    };
    paths::clean(dir)
}

/// `filepath.Join(dir, name)`.
fn go_join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        paths::clean(name)
    } else {
        paths::clean(&format!("{dir}/{name}"))
    }
}

/// An I/O error worded as Go words it (`no such file or directory`).
pub(crate) fn go_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error") {
        Some(i) => &s[..i],
        None => &s,
    };
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// pprof's search: the file and where it was found, or pprof's error.
/// Like Go's `os.Open`, a directory counts as found.
pub fn pprof_open(
    name: &str,
    search_path: &str,
    trim_path: &str,
) -> Result<(File, PathBuf), String> {
    let name = paths::trim_path(name, trim_path, search_path);
    if name.starts_with('/') {
        return match crate::files::open_file_or_dir(Path::new(&name)) {
            Ok(f) => Ok((f, PathBuf::from(name))),
            Err(e) => Err(format!("open {name}: {}", go_error_text(&e))),
        };
    }
    for dir in search_path.split(':') {
        for d in with_parents(dir) {
            let candidate = go_join(&d, &name);
            if let Ok(f) = crate::files::open_file_or_dir(Path::new(&candidate)) {
                return Ok((f, PathBuf::from(candidate)));
            }
        }
    }
    Err(format!("could not find file {name} on path {search_path}"))
}

/// The working directory as Go's `os.Getwd` reports it: `$PWD` when it
/// names the current directory (so symlinked paths stay as typed).
pub fn go_getwd() -> std::io::Result<String> {
    let cwd = std::env::current_dir()?;
    if let Some(pwd) = std::env::var_os("PWD").and_then(|p| p.into_string().ok()) {
        if pwd.starts_with('/') && same_file(Path::new(&pwd), Path::new(".")) {
            return Ok(pwd);
        }
    }
    Ok(cwd.to_string_lossy().into_owned())
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}

/// Source search as configured for a report: pprof's, then the fallbacks.
#[derive(Debug)]
pub struct SourceSearch {
    /// Never empty: the working directory when -source_path is not set.
    pub search_path: String,
    pub trim_path: String,
    pub fallbacks: Fallbacks,
}

impl SourceSearch {
    pub fn new(search_path: &str, trim_path: &str, fallbacks: Fallbacks) -> SourceSearch {
        SourceSearch {
            search_path: search_path.to_string(),
            trim_path: trim_path.to_string(),
            fallbacks,
        }
    }

    /// Opens the source file of `name`; the error is pprof's when no
    /// fallback finds it either.
    pub fn open(&self, name: &str) -> Result<(File, PathBuf), String> {
        let err = match pprof_open(name, &self.search_path, &self.trim_path) {
            Ok(found) => return Ok(found),
            Err(e) => e,
        };
        // Both the name as recorded and as trimmed: trimming may have cut
        // away the very prefix a fallback recognizes, or exposed one.
        let trimmed = paths::trim_path(name, &self.trim_path, &self.search_path);
        let mut names = vec![trimmed.as_str()];
        if trimmed != name {
            names.push(name);
        }
        for n in names {
            for candidate in self.fallbacks.candidates(n, &self.search_path) {
                if let Ok(f) = crate::files::open_file_or_dir(&candidate) {
                    return Ok((f, candidate));
                }
            }
        }
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) -> PathBuf {
        let p = root.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, "x\n").unwrap();
        p
    }

    fn s(p: &Path) -> String {
        p.to_string_lossy().into_owned()
    }

    #[test]
    fn pprof_searches_source_path_and_parents() {
        let t = tempfile::tempdir().unwrap();
        let want = touch(t.path(), "proj/goapp/main.go");
        let deep = t.path().join("proj/a/b");
        std::fs::create_dir_all(&deep).unwrap();
        let search = format!("/nonexistent:{}", s(&deep));
        let (_, found) = pprof_open("goapp/main.go", &search, "").unwrap();
        assert_eq!(found, want);
        assert_eq!(
            pprof_open("goapp/other.go", "/nonexistent", "").unwrap_err(),
            "could not find file goapp/other.go on path /nonexistent"
        );
    }

    #[test]
    fn pprof_trims_and_requires_absolute_files() {
        let t = tempfile::tempdir().unwrap();
        let want = touch(t.path(), "src/a.c");
        let (_, found) = pprof_open("/build/x/src/a.c", &s(t.path()), "/build/x").unwrap();
        assert_eq!(found, want);
        assert_eq!(
            pprof_open("/nonexistent/a.c", &s(t.path()), "").unwrap_err(),
            "open /nonexistent/a.c: no such file or directory"
        );
    }

    #[test]
    fn parents_walk_like_filepath_dir() {
        assert_eq!(with_parents("../src"), vec!["../src", "..", "."]);
        assert_eq!(with_parents("/a/b"), vec!["/a/b", "/a", "/"]);
        assert_eq!(with_parents(""), vec!["", "."]);
        assert_eq!(go_join("", "x/y.go"), "x/y.go");
        assert_eq!(go_join("../src", "./x.go"), "../src/x.go");
    }

    #[test]
    fn module_escaping() {
        assert_eq!(
            escape_module_file("github.com/BurntSushi/toml@v1.2.0/Decode.go").as_deref(),
            Some("github.com/!burnt!sushi/toml@v1.2.0/Decode.go")
        );
        assert_eq!(escape_module_file("runtime/proc.go"), None);
        assert_eq!(
            strip_module_version("a.com/m@v1.0.0/x/y.go").as_deref(),
            Some("a.com/m/x/y.go")
        );
    }

    fn search_with(fb: Fallbacks, search: &str) -> SourceSearch {
        SourceSearch::new(search, "", fb.with_rust_sysroot(None))
    }

    #[test]
    fn goroot_fallback() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("goroot");
        let want = touch(&root, "src/runtime/proc.go");
        let fb = Fallbacks {
            goroot: Some(root.clone()),
            ..Fallbacks::none()
        };
        let ss = search_with(fb, "/nonexistent");
        assert_eq!(ss.open("runtime/proc.go").unwrap().1, want);
        assert_eq!(ss.open("$GOROOT/src/runtime/proc.go").unwrap().1, want);
        assert_eq!(
            ss.open("/home/me/src/go/src/runtime/proc.go").unwrap().1,
            want
        );
        // Not found anywhere: pprof's error, unchanged.
        assert_eq!(
            ss.open("runtime/nope.go").unwrap_err(),
            "could not find file runtime/nope.go on path /nonexistent"
        );
        // pprof's own search wins over the fallback.
        let local = touch(t.path(), "work/runtime/proc.go");
        let ss = SourceSearch::new(&s(&t.path().join("work")), "", ss.fallbacks);
        assert_eq!(ss.open("runtime/proc.go").unwrap().1, local);
    }

    #[test]
    fn module_cache_fallback() {
        let t = tempfile::tempdir().unwrap();
        let cache = t.path().join("mod");
        let want = touch(&cache, "github.com/!burnt!sushi/toml@v1.2.0/decode.go");
        let fb = Fallbacks {
            gomodcache: Some(cache),
            ..Fallbacks::none()
        };
        let ss = search_with(fb, "/nonexistent");
        assert_eq!(
            ss.open("github.com/BurntSushi/toml@v1.2.0/decode.go")
                .unwrap()
                .1,
            want
        );
        assert_eq!(
            ss.open("/home/u/go/pkg/mod/github.com/!burnt!sushi/toml@v1.2.0/decode.go")
                .unwrap()
                .1,
            want
        );
    }

    #[test]
    fn vendor_fallback() {
        let t = tempfile::tempdir().unwrap();
        let want = touch(t.path(), "app/vendor/example.com/lib/x.go");
        let sub = t.path().join("app/cmd");
        std::fs::create_dir_all(&sub).unwrap();
        let ss = search_with(Fallbacks::none(), &s(&sub));
        assert_eq!(ss.open("example.com/lib/x.go").unwrap().1, want);
        assert_eq!(ss.open("example.com/lib@v0.1.0/x.go").unwrap().1, want);
    }

    #[test]
    fn rust_std_fallback() {
        let t = tempfile::tempdir().unwrap();
        let want = touch(t.path(), "lib/rustlib/src/rust/library/core/src/fmt/mod.rs");
        let fb = Fallbacks::none().with_rust_sysroot(Some(t.path().to_path_buf()));
        let ss = SourceSearch::new("/nonexistent", "", fb);
        let name = "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/core/src/fmt/mod.rs";
        assert_eq!(ss.open(name).unwrap().1, want);
        // Without a sysroot, pprof's error.
        let ss = search_with(Fallbacks::none(), "/nonexistent");
        assert_eq!(
            ss.open(name).unwrap_err(),
            format!("open {name}: no such file or directory")
        );
    }

    #[test]
    fn cargo_registry_fallback() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("cargo");
        let want = touch(
            &home,
            "registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.200/src/de.rs",
        );
        let fb = Fallbacks {
            cargo_home: Some(home),
            ..Fallbacks::none()
        };
        let ss = search_with(fb, "/nonexistent");
        // Same index directory.
        let same =
            "/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.200/src/de.rs";
        assert_eq!(ss.open(same).unwrap().1, want);
        // Another index directory name (older cargo): same crate directory.
        let other =
            "/usr/local/cargo/registry/src/github.com-1ecc6299db9ec823/serde-1.0.200/src/de.rs";
        assert_eq!(ss.open(other).unwrap().1, want);
        let missing =
            "/usr/local/cargo/registry/src/github.com-1ecc6299db9ec823/serde-1.0.201/src/de.rs";
        assert!(ss.open(missing).is_err());
    }
}
