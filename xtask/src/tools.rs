//! The tools the widget build needs, installed when cargo or npm can install them.

use crate::{root, run, say, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Tools from npm, installed together once per machine into `~/.cache/nearmiss/npm`:
/// binaryen's wasm-opt (Debian's older one corrupts wasm-bindgen output), terser,
/// axe-core for the desk's accessibility tests, and playwright-core, through which
/// `cargo xtask bench widget` drives the system's Chromium (playwright-core has no
/// install script: it downloads no browser of its own).
const NPM_TOOLS: &[&str] = &[
    "binaryen@132.0.0",
    "terser@5.51.4",
    "axe-core@4.14.1",
    "playwright-core@1.65.1",
];
const MIN_WASM_OPT: u32 = 123;

/// `rustup target add wasm32-unknown-unknown` when it is missing.
pub fn ensure_wasm_target() -> Result {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false);
    if !installed {
        say("installing the wasm32-unknown-unknown target (once per machine)");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

/// The version the widget pins `wasm-bindgen` to (`version = "=X.Y.Z"` in Cargo.toml).
fn pinned_wasm_bindgen() -> Result<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml"))
        .map_err(|e| format!("reading Cargo.toml: {e}"))?;
    manifest
        .lines()
        .find_map(|line| {
            let rest = line.trim().strip_prefix("wasm-bindgen = ")?;
            let version = rest.split("\"=").nth(1)?;
            Some(version.split('"').next()?.to_owned())
        })
        .ok_or_else(|| {
            "Cargo.toml must pin wasm-bindgen as `wasm-bindgen = { version = \"=X.Y.Z\" … }`".into()
        })
}

/// `wasm-bindgen` at exactly the crate's version, installed with cargo when missing.
pub fn ensure_wasm_bindgen() -> Result<PathBuf> {
    let version = pinned_wasm_bindgen()?;
    let current = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let wanted = format!("wasm-bindgen {version}");
    if current.as_deref() != Some(wanted.as_str()) {
        say(&format!(
            "installing wasm-bindgen-cli {version} (found: {}); this takes several minutes, once per machine",
            current.as_deref().unwrap_or("none")
        ));
        // Without --locked: the registry mirror can lag behind the CLI's lock file.
        run(
            Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())).args([
                "install",
                "wasm-bindgen-cli",
                "--version",
                &version,
            ]),
        )?;
    }
    Ok(PathBuf::from("wasm-bindgen"))
}

/// twiggy, for the size report's list of what the wasm is made of; installed with
/// cargo when missing (about a minute, once per machine). `None` when that fails.
pub fn twiggy() -> Option<PathBuf> {
    let found = |cmd: &str| Command::new(cmd).arg("--version").output().is_ok();
    if found("twiggy") {
        return Some(PathBuf::from("twiggy"));
    }
    say("installing twiggy 0.8.0 with cargo, for the size report (once per machine)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let installed =
        run(Command::new(cargo).args(["install", "twiggy", "--version", "0.8.0", "--locked"]));
    match installed {
        Ok(()) if found("twiggy") => Some(PathBuf::from("twiggy")),
        _ => {
            say("could not install twiggy: the size report lists no contributors");
            None
        }
    }
}

fn wasm_opt_version(path: &Path) -> Option<u32> {
    let output = Command::new(path).arg("--version").output().ok()?;
    // "wasm-opt version 132 (version_132)"
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

fn npm_cache() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    Some(PathBuf::from(home).join(".cache/nearmiss/npm"))
}

/// `node_modules/.bin/NAME` in the npm cache, installing the npm tools when it is missing.
fn npm_tool(name: &str) -> Option<PathBuf> {
    npm_file(&format!("node_modules/.bin/{name}"), name)
}

/// `axe.min.js`, which the desk's browser tests run on every page.
pub fn axe_core() -> Option<PathBuf> {
    npm_file("node_modules/axe-core/axe.min.js", "axe-core")
}

/// playwright-core's ES module, through which `cargo xtask bench widget` drives
/// `/usr/bin/chromium` over the DevTools protocol (tracing, CPU and network throttling).
pub fn playwright_core() -> Option<PathBuf> {
    npm_file("node_modules/playwright-core/index.mjs", "playwright-core")
}

/// The file `path` in the npm cache, installing the npm tools (all of them, at their
/// pinned versions) when it is missing.
fn npm_file(path: &str, name: &str) -> Option<PathBuf> {
    let cache = npm_cache()?;
    let bin = cache.join(path);
    if bin.exists() {
        return Some(bin);
    }
    if Command::new("npm").arg("--version").output().is_err() {
        say(&format!("{name} not found and no npm to install it"));
        return None;
    }
    say(&format!(
        "installing {} from npm into {} (once per machine)",
        NPM_TOOLS.join(" "),
        cache.display()
    ));
    let _ = std::fs::create_dir_all(&cache);
    let installed = run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
        .arg(&cache)
        .args(NPM_TOOLS));
    match installed {
        Ok(()) if bin.exists() => Some(bin),
        _ => {
            say(&format!("could not install {name}"));
            None
        }
    }
}

/// A wasm-opt recent enough to trust: `$NEARMISS_WASM_OPT`, one on PATH, or binaryen
/// from npm.
pub fn wasm_opt() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("NEARMISS_WASM_OPT").map(PathBuf::from),
        Some(PathBuf::from("wasm-opt")),
    ];
    for candidate in candidates.iter().flatten() {
        match wasm_opt_version(candidate) {
            Some(v) if v >= MIN_WASM_OPT => return Some(candidate.clone()),
            Some(v) => say(&format!(
                "ignoring {} (version {v}; needs {MIN_WASM_OPT}+)",
                candidate.display()
            )),
            None => {}
        }
    }
    let npm_copy = npm_tool("wasm-opt")?;
    match wasm_opt_version(&npm_copy) {
        Some(v) if v >= MIN_WASM_OPT => Some(npm_copy),
        _ => None,
    }
}

/// terser, to minify the wasm-bindgen glue.
pub fn terser() -> Option<PathBuf> {
    npm_tool("terser")
}

/// A system package the build or the tests need, and how to see it is there.
pub struct Package {
    /// The Debian package.
    pub name: &'static str,
    /// A file it installs, or a command it puts on PATH.
    pub provides: &'static str,
}

/// brotli (the size report's third column, and `.br` files) and npm (binaryen and terser
/// for the build). npm only where Node.js did not bring one: Debian's conflicts with it.
pub const BUILD_PACKAGES: &[Package] = &[
    Package {
        name: "brotli",
        provides: "brotli",
    },
    Package {
        name: "npm",
        provides: "npm",
    },
];

/// Chromium and chromedriver, for the browser tests.
pub const BROWSER_PACKAGES: &[Package] = &[
    Package {
        name: "chromium",
        provides: CHROMIUM,
    },
    Package {
        name: "chromium-driver",
        provides: CHROMEDRIVER,
    },
];

fn present(package: &Package) -> bool {
    if package.provides.starts_with('/') {
        return Path::new(package.provides).exists();
    }
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join(package.provides).is_file())
    })
}

/// Installs with apt-get (through sudo when not root) the packages that are missing,
/// saying which; on a machine without apt-get, says what to install instead.
pub fn ensure_packages(packages: &[Package]) -> Result {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|p| !present(p))
        .map(|p| p.name)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if Command::new("apt-get").arg("--version").output().is_err() {
        return Err(format!(
            "missing: {list}; install them with your system's package manager (Debian and Ubuntu: apt-get install {list})"
        ));
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    say(&format!(
        "installing {list} with apt-get (once per machine)"
    ));
    let apt = |args: &[&str]| {
        let mut cmd = match root {
            true => Command::new("apt-get"),
            false => {
                let mut sudo = Command::new("sudo");
                sudo.arg("apt-get");
                sudo
            }
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(&mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq"]);
    install.args(&missing);
    run(&mut install).map_err(|err| {
        format!("{err}\ninstalling {list} failed: install them yourself (apt-get install {list}) and run again")
    })
}
