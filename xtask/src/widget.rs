//! Builds the widget into `target/widget`: the loader `nearmiss.js`, the wasm and its
//! glue under content-hashed names in `widget/`, the demo page, and `.gz`/`.br` copies.

use crate::{captured, cargo, root, run, say, target_dir, tools, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The script tag, gzip: what every page view pays, intent or not.
const LOADER_BUDGET_GZIP_BYTES: u64 = 1_500;

/// Everything the widget downloads (loader, glue with the outbox, wasm, the words sent
/// with the site's settings), gzip: a ceiling, so nothing grows, while the size is
/// worked down to the stage budget below.
const BUDGET_GZIP_BYTES: u64 = 29_000;

/// The stage budget of the weight issue, and its goal beyond.
const STAGE_GZIP_BYTES: u64 = 15_000;
const GOAL_GZIP_BYTES: u64 = 10_000;

const WASM_OPT_FLAGS: &[&str] = &[
    "-Oz",
    "--converge",
    // Rust places data at 1 MiB: the first KiB of memory is never used.
    "--low-memory-unused",
    "--gufa",
    // wasm-bindgen has read these; the browser does not need them.
    "--strip-producers",
    "--strip-target-features",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
];

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> String {
    let path = path.display().to_string();
    let what = what.to_owned();
    move |err| format!("{what} {path}: {err}")
}

/// Builds everything and returns the output folder.
pub fn build() -> Result<PathBuf> {
    tools::ensure_packages(tools::BUILD_PACKAGES)?;
    tools::ensure_wasm_target()?;
    let bindgen = tools::ensure_wasm_bindgen()?;
    say("building the widget (wasm, size profile)");
    // Short source paths in panic locations: fewer bytes in the wasm.
    let mut rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    for prefix in [cargo_registry(), Some(root()), rustc_sources()]
        .into_iter()
        .flatten()
    {
        rustflags.push_str(&format!(" --remap-path-prefix={}=", prefix.display()));
    }
    run(cargo().env("RUSTFLAGS", rustflags.trim()).args([
        "build",
        "--quiet",
        "-p",
        "nearmiss-widget",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "widget",
    ]))?;
    let target = target_dir();
    let raw = target.join("wasm32-unknown-unknown/widget/nearmiss_widget.wasm");
    let staging = target.join("widget-bindgen");
    run(Command::new(&bindgen)
        .arg(&raw)
        .arg("--out-dir")
        .arg(&staging)
        .args(["--target", "web", "--no-typescript"]))?;
    let mut wasm = staging.join("nearmiss_widget_bg.wasm");
    let glue_path = staging.join("nearmiss_widget.js");
    let mut glue = fs::read_to_string(&glue_path).map_err(io("reading", &glue_path))?;
    match tools::wasm_opt() {
        Some(wasm_opt) => {
            let optimised = staging.join("nearmiss_widget_opt.wasm");
            run(Command::new(&wasm_opt)
                .args(WASM_OPT_FLAGS)
                .arg(&wasm)
                .arg("-o")
                .arg(&optimised))?;
            let minified = staging.join("nearmiss_widget_min.wasm");
            glue = minify_names(&wasm_opt, &optimised, &minified, &glue)?;
            wasm = minified;
        }
        None => say("skipping wasm-opt"),
    }
    // The outbox travels in the glue: the loader downloads it on intent, or to send what
    // an earlier page left.
    let outbox_js = root().join("www/outbox.js");
    glue.push_str(&fs::read_to_string(&outbox_js).map_err(io("reading", &outbox_js))?);
    let with_outbox = staging.join("nearmiss_widget_outbox.js");
    write(&with_outbox, glue.as_bytes())?;
    // V8's compile hint: compile the whole glue while it downloads (it all runs at once),
    // instead of each function on its first call on the main thread after the intent.
    let mut glue_hinted = b"//# allFunctionsCalledOnLoad\n".to_vec();
    glue_hinted.extend(minify_js(&with_outbox, true)?);
    let glue = glue_hinted;
    let wasm = fs::read(&wasm).map_err(io("reading", &wasm))?;

    let out = target.join("widget");
    if out.exists() {
        fs::remove_dir_all(&out).map_err(io("clearing", &out))?;
    }
    fs::create_dir_all(out.join("widget")).map_err(io("creating", &out))?;
    let hash = content_hash(&[&glue, &wasm]);
    let glue_name = format!("nearmiss-{hash}.js");
    let wasm_name = format!("nearmiss-{hash}.wasm");
    write(&out.join("widget").join(&glue_name), &glue)?;
    write(&out.join("widget").join(&wasm_name), &wasm)?;

    let www = root().join("www");
    let loader = fs::read_to_string(www.join("nearmiss.js")).map_err(io("reading", &www))?;
    let facade = fs::read_to_string(www.join("facade.js")).map_err(io("reading", &www))?;
    let loader = loader
        .replace("/*FACADE*/", &facade.replace("export function", "function"))
        .replace("__NEARMISS_GLUE__", &glue_name)
        .replace("__NEARMISS_WASM__", &wasm_name);
    let filled = staging.join("nearmiss.js");
    write(&filled, loader.as_bytes())?;
    let loaders = loaders(&String::from_utf8_lossy(&minify_js(&filled, false)?))?;
    for (name, loader) in &loaders {
        write(&out.join(name), loader.as_bytes())?;
    }
    for page in ["demo.html", "rerate.html", "nearmiss.d.ts"] {
        let html = fs::read(www.join(page)).map_err(io("reading", &www))?;
        write(&out.join(page), &html)?;
    }
    // The module for apps: it adds the script tag, so it names no hashed file.
    let module = staging.join("nearmiss.mjs");
    fs::copy(www.join("nearmiss.mjs"), &module).map_err(io("copying", &module))?;
    write(&out.join("nearmiss.mjs"), &minify_js(&module, true)?)?;

    let files = loaders.iter().map(|(name, _)| out.join(name)).chain([
        out.join("nearmiss.mjs"),
        out.join("widget").join(&glue_name),
        out.join("widget").join(&wasm_name),
    ]);
    for file in files {
        let bytes = fs::read(&file).map_err(io("reading", &file))?;
        if let Some(gz) = compress("gzip", &["-9", "-n", "-c"], &bytes) {
            write(&PathBuf::from(format!("{}.gz", file.display())), &gz)?;
        }
        if let Some(br) = compress("brotli", &["-q", "11", "-c"], &bytes) {
            write(&PathBuf::from(format!("{}.br", file.display())), &br)?;
        }
    }
    say(&format!("widget built in {}", out.display()));
    Ok(out)
}

/// The loader once for each language of `www/words` (`nearmiss.js` in English,
/// `nearmiss.de.js`, …), each with that language's button label: the button is drawn
/// before anything else is downloaded, so its words cannot come later. The server sends
/// the one the browser's `Accept-Language` asks for.
fn loaders(minified: &str) -> Result<Vec<(String, String)>> {
    let mut loaders = Vec::new();
    for file in words_files()? {
        let language = file.file_stem().unwrap_or_default().to_string_lossy();
        let text = fs::read_to_string(&file).map_err(io("reading", &file))?;
        // The label as the words file writes it: a JSON string is a JS string too.
        let label = text
            .lines()
            .find_map(|line| line.trim().strip_prefix("\"launcher\":"))
            .map(|rest| rest.trim().trim_end_matches(','))
            .filter(|label| label.len() > 2 && label.starts_with('"') && label.ends_with('"'))
            .ok_or_else(|| format!("{} has no \"launcher\" line", file.display()))?;
        let loader = ["'__NEARMISS_LAUNCHER__'", "\"__NEARMISS_LAUNCHER__\""]
            .iter()
            .fold(minified.to_owned(), |js, placeholder| {
                js.replace(placeholder, label)
            });
        if loader == minified {
            return Err("www/nearmiss.js has no '__NEARMISS_LAUNCHER__' label".into());
        }
        let name = match &*language {
            "en" => "nearmiss.js".to_owned(),
            other => format!("nearmiss.{other}.js"),
        };
        loaders.push((name, loader));
    }
    Ok(loaders)
}

/// The words files, one a language (`www/words/en.json`, …), sorted.
fn words_files() -> Result<Vec<PathBuf>> {
    let folder = root().join("www/words");
    let mut files: Vec<PathBuf> = fs::read_dir(&folder)
        .map_err(io("reading", &folder))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Renames the wasm's imports, exports and import module to one or two letters, and
/// the glue's uses of them to match: wasm-bindgen's names (`__wbg_get_bb6f184f…`, each
/// with `./nearmiss_widget_bg.js`) were about a kilobyte of the gzipped wasm.
fn minify_names(wasm_opt: &Path, wasm: &Path, out: &Path, glue: &str) -> Result<String> {
    let mut flags: Vec<&str> = WASM_OPT_FLAGS
        .iter()
        .copied()
        .filter(|f| f.starts_with("--enable"))
        .collect();
    flags.push("--minify-imports-and-exports-and-modules");
    say(&format!(
        "$ wasm-opt --minify-imports-and-exports-and-modules {}",
        wasm.display()
    ));
    // A JSON map: `["module", "import", "new"]` lines, then `["export", "new"]` lines.
    let map = captured(
        Command::new(wasm_opt)
            .args(&flags)
            .arg(wasm)
            .arg("-o")
            .arg(out),
    )?;
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut modules = Vec::new();
    for line in map.lines() {
        let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        match quoted[..] {
            [module, old, new] => imports.push((old.to_owned(), new.to_owned(), module)),
            [old, new] => exports.push((old.to_owned(), format!("wasm.{new}"))),
            _ => {}
        }
    }
    for (_, _, module) in &imports {
        if !modules.contains(module) {
            modules.push(module);
        }
    }
    if modules.len() != 1 {
        return Err(format!("expected one import module, found {modules:?}"));
    }
    let mut glue = glue.replace(&format!("\"{}\"", modules[0]), "\"a\"");
    for (old, new, _) in &imports {
        glue = replace_word(&glue, old, new);
    }
    for (old, new) in &exports {
        glue = replace_word(&glue, &format!("wasm.{old}"), new);
    }
    Ok(glue)
}

/// `text` with every `word` that is not part of a longer identifier replaced by `with`.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// `/rustc/COMMIT`, the standard library's source path in its panic locations.
fn rustc_sources() -> Option<PathBuf> {
    let version = Command::new("rustc").arg("-vV").output().ok()?;
    let text = String::from_utf8(version.stdout).ok()?;
    let hash = text.lines().find_map(|l| l.strip_prefix("commit-hash: "))?;
    Some(PathBuf::from(format!("/rustc/{}", hash.trim())))
}

/// `~/.cargo/registry/src`, whose long paths would otherwise land in the wasm.
fn cargo_registry() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let src = home.join("registry/src");
    // One folder per registry, like index.crates.io-1949cf8c6b5b557f.
    let index = fs::read_dir(&src).ok()?.flatten().next()?.path();
    Some(index)
}

fn write(path: &Path, bytes: &[u8]) -> Result {
    fs::write(path, bytes).map_err(io("writing", path))
}

/// FNV-1a, 64 bits: enough to give changed content a new name.
fn content_hash(parts: &[&[u8]]) -> String {
    let mut hash: u64 = 0xcbf29ce484222325;
    for part in parts {
        for byte in part.iter() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x100000001b3);
        }
    }
    format!("{:016x}", hash)[..10].to_owned()
}

/// `file` minified by terser (as an ES module or a classic script); unchanged when
/// terser is not available.
fn minify_js(file: &Path, module: bool) -> Result<Vec<u8>> {
    let Some(terser) = tools::terser() else {
        say("terser not available: JavaScript left unminified");
        return fs::read(file).map_err(io("reading", file));
    };
    let minified = file.with_extension("min.js");
    let mut cmd = Command::new(terser);
    cmd.arg(file);
    if module {
        cmd.arg("--module");
    }
    // ES2020: every browser that runs the widget (wasm, dynamic import) reads it, and
    // arrow functions are shorter.
    run(cmd
        .args([
            "--ecma",
            "2020",
            "--compress",
            "passes=2,unsafe_arrows=true",
        ])
        .args(["--mangle", "--output"])
        .arg(&minified))?;
    fs::read(&minified).map_err(io("reading", &minified))
}

/// Pipes `bytes` through a compressor; `None` when it is not installed.
fn compress(program: &str, args: &[&str], bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    output.status.success().then_some(output.stdout)
}

fn size_of(path: &Path) -> Option<u64> {
    fs::metadata(path).ok().map(|m| m.len())
}

/// Prints the largest parts of the wasm (twiggy's shallow sizes, measured before
/// wasm-opt, whose output has no names), so the next person knows where the bytes are.
fn contributors(out: &Path) {
    let named = out
        .parent()
        .unwrap_or(out)
        .join("widget-bindgen/nearmiss_widget_bg.wasm");
    let Some(twiggy) = tools::twiggy() else {
        return;
    };
    let Ok(listed) = std::process::Command::new(twiggy)
        .args(["top", "-n", "16", "-f", "csv"])
        .arg(&named)
        .output()
    else {
        return;
    };
    println!(
        "largest parts of the wasm (bytes before wasm-opt, which about halves the whole; \
         twiggy top target/widget-bindgen/nearmiss_widget_bg.wasm):"
    );
    for line in String::from_utf8_lossy(&listed.stdout).lines().skip(1) {
        // Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent; the name
        // may hold commas, so the numbers are taken from the right.
        let fields: Vec<&str> = line.rsplitn(5, ',').collect();
        let [_, _, _, bytes, name] = fields[..] else {
            continue;
        };
        let name = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            Some(quoted) => quoted.replace("\"\"", "\""),
            None => name.to_owned(),
        };
        if name.contains("function names") || name.starts_with("...") || name.starts_with('Σ') {
            continue;
        }
        // Drop the symbol hash (`::h0123456789abcdef`).
        let name = match name.rsplit_once("::h") {
            Some((head, hash)) if hash.len() == 16 => head.to_owned(),
            _ => name,
        };
        println!("  {bytes:>7}  {name}");
    }
}

/// Prints what the widget downloads, raw, gzip and brotli; fails over a budget.
pub fn size_report(out: &Path) -> Result {
    let mut files = vec![out.join("nearmiss.js")];
    let mut hashed: Vec<PathBuf> = fs::read_dir(out.join("widget"))
        .map_err(io("reading", out))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("js" | "wasm")))
        .collect();
    hashed.sort();
    files.extend(hashed);
    println!("{:<34} {:>9} {:>9} {:>9}", "file", "raw", "gzip", "brotli");
    let (mut raw, mut gz, mut br) = (0, 0, 0);
    let show = |n: Option<u64>| n.map_or("-".to_owned(), |n| n.to_string());
    let mut row = |name: &str, sizes: (Option<u64>, Option<u64>, Option<u64>)| {
        println!(
            "{:<34} {:>9} {:>9} {:>9}",
            name,
            show(sizes.0),
            show(sizes.1),
            show(sizes.2)
        );
        raw += sizes.0.unwrap_or(0);
        gz += sizes.1.unwrap_or(0);
        br += sizes.2.unwrap_or(0);
    };
    for file in &files {
        let name = file.strip_prefix(out).unwrap_or(file).display().to_string();
        row(
            &name,
            (
                size_of(file),
                size_of(Path::new(&format!("{}.gz", file.display()))),
                size_of(Path::new(&format!("{}.br", file.display()))),
            ),
        );
    }
    // The words travel with the site's settings, as the server sends them (one line), in
    // the customer's one language: counted for the largest.
    let mut largest: Option<(Option<u64>, String, String)> = None;
    for path in words_files()? {
        let words = fs::read_to_string(&path).map_err(io("reading", &path))?;
        let words: String = words.lines().map(str::trim).collect();
        let zipped =
            compress("gzip", &["-9", "-n", "-c"], words.as_bytes()).map(|b| b.len() as u64);
        if largest.as_ref().is_none_or(|(most, _, _)| zipped > *most) {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            largest = Some((zipped, name, words));
        }
    }
    let (zipped, name, words) = largest.ok_or("www/words has no words")?;
    let len = |bytes: Option<Vec<u8>>| bytes.map(|b| b.len() as u64);
    row(
        &format!("settings: words ({name}, largest)"),
        (
            Some(words.len() as u64),
            zipped,
            len(compress("brotli", &["-q", "11", "-c"], words.as_bytes())),
        ),
    );
    println!("{:<34} {:>9} {:>9} {:>9}", "total", raw, gz, br);
    // The script tag in each language: the budget holds for the largest.
    let (loader, largest) = fs::read_dir(out)
        .map_err(io("reading", out))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("nearmiss.") && name.ends_with(".js.gz"))
        .map(|name| (size_of(&out.join(&name)).unwrap_or(0), name))
        .max()
        .unwrap_or_default();
    println!(
        "budgets (gzip): the script tag {loader} ({largest}, the largest language) of \
         {LOADER_BUDGET_GZIP_BYTES}; everything \
         {gz} of {BUDGET_GZIP_BYTES} (a ceiling; the stage budget is {STAGE_GZIP_BYTES}, \
         {} to go, and the goal {GOAL_GZIP_BYTES})",
        gz.saturating_sub(STAGE_GZIP_BYTES)
    );
    contributors(out);
    if gz == 0 || loader == 0 {
        return Err("no gzip sizes: is gzip installed?".into());
    }
    if loader > LOADER_BUDGET_GZIP_BYTES {
        return Err(format!(
            "the script tag is {loader} bytes gzip, over its {LOADER_BUDGET_GZIP_BYTES}-byte budget"
        ));
    }
    if gz > BUDGET_GZIP_BYTES {
        return Err(format!(
            "the widget is {gz} bytes gzip, over its {BUDGET_GZIP_BYTES}-byte budget"
        ));
    }
    Ok(())
}
