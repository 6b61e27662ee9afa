//! Finding connector package folders under a path (for `validate` and `create --all`).

use std::path::{Path, PathBuf};

/// How deep below the starting folder packages are looked for.
const MAX_DEPTH: usize = 5;

/// Whether `dir` holds a package: an API definition or properties file, named in any case.
pub fn is_package(dir: &Path) -> bool {
    std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        (name == "apidefinition.swagger.json" || name == "apiproperties.json") && e.path().is_file()
    })
}

/// `dir` itself when it is a package, else the package folders below it, sorted; a package's own
/// sub-folders are not searched.
pub fn find_packages(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(dir, &mut out, 0);
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if is_package(dir) {
        out.push(dir.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for sub in dirs.into_iter().filter(|_| depth < MAX_DEPTH) {
        collect(&sub, out, depth + 1);
    }
}
