//! The words a site's widget shows: the product's own (`www/words/en.json`), with the
//! site's opening-hours promise and then its own wording put over them, so that an
//! order page need not ask "How was your visit?".

use crate::store::SiteSettings;
use nearmiss_core::{check_line, Words, LIMITS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The languages the widget speaks so far.
const LANGUAGES: [&str; 1] = ["en"];

/// The widget's English words.
pub fn english() -> &'static Words {
    static ENGLISH: std::sync::LazyLock<Words> = std::sync::LazyLock::new(|| {
        // Checked by a test: the file is compiled in, so it cannot change afterwards.
        serde_json::from_str(include_str!("../../www/words/en.json"))
            .expect("www/words/en.json holds every word, and only those")
    });
    &ENGLISH
}

/// A site's own wording, by language and word: `en.question = How was your order?`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OwnWords(BTreeMap<String, BTreeMap<String, String>>);

impl OwnWords {
    /// Reads lines of `LANG.WORD = text` (blank lines skipped); the error names the line
    /// and what is wrong with it.
    pub fn parse(text: &str) -> Result<OwnWords, String> {
        let mut own = OwnWords::default();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (name, words) = line.split_once('=').ok_or_else(|| {
                format!(
                    "{line:?}: write LANGUAGE.WORD = text, like en.question = How was your order?"
                )
            })?;
            own.set(name.trim(), words.trim())?;
        }
        Ok(own)
    }

    /// Puts `text` for `name` (`en.question`), or takes the site's own wording of it
    /// away when `text` is empty.
    pub fn set(&mut self, name: &str, text: &str) -> Result<(), String> {
        let (language, word) = name
            .split_once('.')
            .ok_or_else(|| format!("{name:?}: name a language and a word, like en.question"))?;
        if !LANGUAGES.contains(&language) {
            return Err(format!(
                "{language:?}: the widget speaks {} so far",
                LANGUAGES.join(", ")
            ));
        }
        let ours = serde_json::to_value(english()).unwrap_or_default();
        let Some(original) = ours.get(word).and_then(|w| w.as_str()) else {
            return Err(format!("{word:?} is not one of the widget's words (they are the keys of www/words/en.json)"));
        };
        if text.is_empty() {
            if let Some(words) = self.0.get_mut(language) {
                words.remove(word);
            }
            self.0.retain(|_, words| !words.is_empty());
            return Ok(());
        }
        if check_line(text, "texts", LIMITS.note).is_err() {
            return Err(format!(
                "{name}: one line of up to {} characters",
                LIMITS.note
            ));
        }
        // The widget fills these in: a wording without `{ref}` would hide the reference.
        if placeholders(text) != placeholders(original) {
            return Err(format!(
                "{name} must keep {} as in {original:?}",
                match placeholders(original).join(" ") {
                    names if names.is_empty() => "no {…} names".to_owned(),
                    names => names,
                }
            ));
        }
        self.0
            .entry(language.to_owned())
            .or_default()
            .insert(word.to_owned(), text.to_owned());
        Ok(())
    }

    /// Whether the site words nothing its own way.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for OwnWords {
    /// One `LANG.WORD = text` a line, as `parse` reads them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (language, words) in &self.0 {
            for (word, text) in words {
                writeln!(f, "{language}.{word} = {text}")?;
            }
        }
        Ok(())
    }
}

/// The `{name}`s in `text`, sorted.
fn placeholders(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = text
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    names.sort_unstable();
    names
}

/// The words `settings`' widget shows in English: a site with opening hours promises
/// its minutes in opening time, and the site's own wording comes last.
pub fn for_site(settings: &SiteSettings) -> Words {
    let mut words = english().clone();
    if settings.hours.is_some() {
        words.promise_contact = words.promise_contact_hours.clone();
        words.promise_look = words.promise_look_hours.clone();
    }
    let Some(own) = settings.words.0.get("en") else {
        return words;
    };
    let mut value = serde_json::to_value(&words).unwrap_or_default();
    for (word, text) in own {
        if let Some(slot) = value.get_mut(word) {
            *slot = text.clone().into();
        }
    }
    serde_json::from_value(value).unwrap_or(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_english_words_are_complete() {
        assert_eq!(english().question, "How was your visit?");
    }

    #[test]
    fn a_site_words_the_widget_its_own_way_and_keeps_what_it_fills_in() {
        let own = OwnWords::parse(
            "en.question = How was your order?\n\n en.done_miss = Thanks. Your order's case: {ref}",
        )
        .unwrap();
        assert_eq!(OwnWords::parse(&own.to_string()).unwrap(), own);
        let mut settings = SiteSettings::new("Shop");
        settings.words = own;
        let words = for_site(&settings);
        assert_eq!(words.question, "How was your order?");
        assert_eq!(words.done_miss, "Thanks. Your order's case: {ref}");
        assert_eq!(words.send, english().send);

        for (line, why) in [
            ("en.question How was it?", "write LANGUAGE.WORD"),
            ("question = How was it?", "name a language"),
            ("de.question = Wie war es?", "speaks en"),
            ("en.headline = Hi", "not one of the widget's words"),
            ("en.done_miss = Thanks!", "must keep ref"),
            ("en.question = How was {it}?", "must keep no {…} names"),
        ] {
            let err = OwnWords::parse(line).unwrap_err();
            assert!(err.contains(why), "{line}: {err}");
        }
        let mut own = settings.words.clone();
        own.set("en.question", "").unwrap();
        own.set("en.done_miss", "").unwrap();
        assert!(own.is_empty());
    }
}
