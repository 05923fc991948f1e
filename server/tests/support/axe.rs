//! axe-core in the test browser: WCAG A/AA rules run on the page as it is, shadow roots
//! included.

use super::webdriver::Browser;
use serde_json::json;

/// axe.min.js: `$NEARMISS_AXE`, or where `cargo xtask` installs it.
pub fn axe_source() -> String {
    let path = std::env::var_os("NEARMISS_AXE")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| {
                std::path::PathBuf::from(home)
                    .join(".cache/nearmiss/npm/node_modules/axe-core/axe.min.js")
            })
        })
        .expect("a home folder");
    std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "axe-core at {} ({err}): run `cargo xtask test`, which installs it",
            path.display()
        )
    })
}

/// Runs axe-core's WCAG 2.0, 2.1 and 2.2 A/AA rules on the page; fails on any violation.
#[track_caller]
pub fn assert_accessible(browser: &Browser, axe: &str, page: &str) {
    browser.script(
        &format!("{axe}\n;window.axe = axe; return true;"),
        json!([]),
    );
    let violations = browser.script_async(
        "const done = arguments[arguments.length - 1];
         axe.run(document, { runOnly: { type: 'tag', values:
             ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
           .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at ' +
                 v.nodes.map(n => n.target.join(' ')).join(', '))))
           .catch(e => done(['axe failed: ' + e]));",
        json!([]),
    );
    assert_eq!(violations, json!([]), "axe-core on the {page} page");
}
