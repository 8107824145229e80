//! Opening files whose names come from untrusted input (a profile's
//! mapping and source file names, arguments that may be binaries): regular
//! files only, opened without ever blocking (a FIFO would hang `open`), so
//! `/dev/zero` or a named pipe in a profile cannot hang or exhaust rprof.

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `path` for reading if it is a regular file (after symlinks).
/// Anything else (directory, FIFO, device, socket) is an error, found
/// without blocking.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = open_file_or_dir(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// [`open_regular`] that also opens directories (reading one fails, as Go's
/// does after a successful open: pprof's source search relies on that).
pub fn open_file_or_dir(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading blocks until a writer comes, unless
        // non-blocking; on a regular file the flag changes nothing.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() && !meta.is_dir() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// Whether `path` is a regular file (after symlinks), without opening it.
pub fn is_regular(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        assert!(open_regular(&f).is_ok());
        assert!(open_regular(dir.path()).is_err());
        assert!(open_regular(Path::new("/dev/zero")).is_err());
        #[cfg(unix)]
        {
            let fifo = dir.path().join("fifo");
            let ok = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                // Returns at once (no writer needed) with an error.
                let e = open_regular(&fifo).unwrap_err();
                assert_eq!(e.to_string(), "not a regular file");
            }
        }
    }
}
