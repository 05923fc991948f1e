//! Embeds the built widget assets into the binary when `NEARMISS_EMBED_ASSETS` names
//! their folder (`cargo xtask dist` sets it); otherwise embeds nothing and the server
//! reads them from `--assets` at start-up.

use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-env-changed=NEARMISS_EMBED_ASSETS");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut code = String::from("&[\n");
    if let Ok(dir) = env::var("NEARMISS_EMBED_ASSETS") {
        let root = PathBuf::from(dir);
        let mut files = Vec::new();
        collect(&root, &mut files);
        files.sort();
        for file in files {
            let rel = file.strip_prefix(&root).expect("below root");
            let rel = rel.to_string_lossy().replace('\\', "/");
            println!("cargo:rerun-if-changed={}", file.display());
            code.push_str(&format!(
                "    ({rel:?}, include_bytes!({:?}) as &[u8]),\n",
                file
            ));
        }
    }
    code.push(']');
    fs::write(out.join("embedded_assets.rs"), code).expect("writing embedded_assets.rs");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("NEARMISS_EMBED_ASSETS={}: {err}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
