//! Minifies the widget's stylesheet: every byte is downloaded by the customer.

use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=src/style.css");
    let css = fs::read_to_string("src/style.css").expect("reading src/style.css");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("style.min.css"), minify(&css)).expect("writing style.min.css");
}

fn minify(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    text.push_str(rest);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(collapsed.len());
    let tight = |c: char| matches!(c, '{' | '}' | ';' | ',' | ':');
    let chars: Vec<char> = collapsed.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next_tight = chars.get(i + 1).is_some_and(|n| tight(*n));
        let prev_tight = i > 0 && tight(chars[i - 1]);
        if *c == ' ' && (next_tight || prev_tight) {
            continue;
        }
        out.push(*c);
    }
    out.replace(";}", "}")
}
