//! The words a site's widget shows, in the customer's language: the product's own
//! (`www/words/LANG.json`), with the site's opening-hours promise and then its own
//! wording in that language put over them, so that an order page need not ask "How was
//! your visit?".

use crate::store::SiteSettings;
use nearmiss_core::{check_line, Words, LIMITS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

/// The languages the widget speaks, each with its file `www/words/LANG.json`. English
/// comes first: it is spoken when the customer asks for none of these.
pub const LANGUAGES: [&str; 8] = ["en", "es", "fr", "de", "pt", "it", "nl", "ar"];

/// The product's words in each of [`LANGUAGES`], in that order.
static PRODUCT: LazyLock<Vec<Words>> = LazyLock::new(|| {
    // Compiled in, so they cannot change afterwards; a test reads every one.
    [
        include_str!("../../www/words/en.json"),
        include_str!("../../www/words/es.json"),
        include_str!("../../www/words/fr.json"),
        include_str!("../../www/words/de.json"),
        include_str!("../../www/words/pt.json"),
        include_str!("../../www/words/it.json"),
        include_str!("../../www/words/nl.json"),
        include_str!("../../www/words/ar.json"),
    ]
    .iter()
    .zip(LANGUAGES)
    .map(|(file, language)| {
        serde_json::from_str::<Words>(file).unwrap_or_else(|e| {
            panic!("www/words/{language}.json holds every word, and only those: {e}")
        })
    })
    .collect()
});

/// The widget's English words.
pub fn english() -> &'static Words {
    &PRODUCT[0]
}

/// The product's words in `language`, one of [`LANGUAGES`]; English for any other.
pub fn product(language: &str) -> &'static Words {
    let index = LANGUAGES.iter().position(|l| *l == language);
    &PRODUCT[index.unwrap_or(0)]
}

/// The language the widget speaks to a customer who asks for `asked`: a list of
/// language tags, most wanted first, as `data-lang` or `Accept-Language` give it
/// (`de-AT,de;q=0.9,en;q=0.8`). Answers the tag that matched, for the browser to format
/// numbers and times by (`de-AT`), and the language of the words (`de`).
pub fn negotiate(asked: &str) -> (String, &'static str) {
    for tag in asked.split(',') {
        let tag = tag.split(';').next().unwrap_or("").trim();
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let Some(language) = LANGUAGES.iter().find(|l| **l == primary) else {
            continue;
        };
        // Only a tag the browser's Intl surely reads reaches it (it throws on others):
        // the language with a region (`pt-BR`, `es-419`) or a script (`sr-Latn`).
        let well_formed = tag.len() == language.len()
            || tag.as_bytes()[language.len()] == b'-'
                && tag[language.len() + 1..]
                    .split('-')
                    .all(|part| match part.len() {
                        2 | 4 => part.bytes().all(|b| b.is_ascii_alphabetic()),
                        3 => part.bytes().all(|b| b.is_ascii_digit()),
                        _ => false,
                    });
        // The language in lower case (`AR-eg`: `ar-eg`), as the widget reads it.
        let locale = match well_formed {
            true => format!("{language}{}", &tag[language.len()..]),
            false => (*language).to_owned(),
        };
        return (locale, language);
    }
    ("en".to_owned(), LANGUAGES[0])
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
                "{language:?}: the widget speaks {}",
                LANGUAGES.join(", ")
            ));
        }
        if word == "launcher" {
            return Err(format!(
                "{name}: the button's label is drawn before the site's words are downloaded: set it on the script tag, data-label=\"…\""
            ));
        }
        let ours = serde_json::to_value(english()).unwrap_or_default();
        // The site's apology and who answers are its own already, in the language it
        // set them in; these give them in another.
        let original = match word {
            "apology" | "owner" => "",
            word => ours.get(word).and_then(|w| w.as_str()).ok_or_else(|| {
                format!("{word:?} is not one of the widget's words (they are the keys of www/words/en.json, and apology and owner)")
            })?,
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

    /// The site's own `word` in `language`, if it set one.
    pub fn get(&self, language: &str, word: &str) -> Option<&str> {
        self.0.get(language)?.get(word).map(String::as_str)
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

/// The words `settings`' widget shows in `language` (one of [`LANGUAGES`]): a site with
/// opening hours promises its minutes in opening time, and the site's own wording in
/// that language comes last.
pub fn for_site(settings: &SiteSettings, language: &str) -> Words {
    let mut words = product(language).clone();
    if settings.hours.is_some() {
        words.promise_contact = words.promise_contact_hours.clone();
        words.promise_look = words.promise_look_hours.clone();
    }
    let Some(own) = settings.words.0.get(language) else {
        return words;
    };
    let mut value = serde_json::to_value(&words).unwrap_or_default();
    for (word, text) in own {
        // A wording stored before its word changed what it fills in is left out.
        let fits = |slot: &serde_json::Value| {
            slot.as_str()
                .is_some_and(|ours| placeholders(ours) == placeholders(text))
        };
        if let Some(slot) = value.get_mut(word).filter(|slot| fits(slot)) {
            *slot = text.clone().into();
        }
    }
    serde_json::from_value(value).unwrap_or(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_word_and_fills_in_what_english_does() {
        assert_eq!(english().question, "How was your visit?");
        let english = serde_json::to_value(english()).unwrap();
        for language in LANGUAGES {
            let words = serde_json::to_value(product(language)).unwrap();
            for (word, text) in english.as_object().unwrap() {
                let theirs = words[word].as_str().unwrap();
                assert!(!theirs.trim().is_empty(), "{language}.{word} is empty");
                assert_eq!(
                    placeholders(theirs),
                    placeholders(text.as_str().unwrap()),
                    "{language}.{word}"
                );
            }
        }
        assert_eq!(product("de").question, PRODUCT[3].question);
        assert_ne!(product("de").question, english["question"]);
    }

    #[test]
    fn the_customer_gets_the_first_language_they_ask_for_that_the_widget_speaks() {
        let cases = [
            ("de-AT,de;q=0.9,en;q=0.8", "de-AT", "de"),
            ("sv-SE, pt-BR;q=0.8", "pt-BR", "pt"),
            ("AR", "ar", "ar"),
            ("fr_CA", "fr", "fr"),
            ("nl-<script>", "nl", "nl"),
            ("es-419", "es-419", "es"),
            ("de-x-private", "de", "de"),
            ("ja,zh", "en", "en"),
            ("", "en", "en"),
            ("*", "en", "en"),
        ];
        for (asked, locale, language) in cases {
            assert_eq!(negotiate(asked), (locale.to_owned(), language), "{asked:?}");
        }
    }

    #[test]
    fn a_site_words_each_language_its_own_way() {
        let mut settings = SiteSettings::new("Shop");
        settings.words = OwnWords::parse("de.question = Wie war Ihre Bestellung?").unwrap();
        assert_eq!(
            for_site(&settings, "de").question,
            "Wie war Ihre Bestellung?"
        );
        assert_eq!(for_site(&settings, "en").question, english().question);
        assert_eq!(for_site(&settings, "fr").question, product("fr").question);
        settings
            .words
            .set("de.apology", "Das tut uns leid.")
            .unwrap();
        assert_eq!(
            settings.words.get("de", "apology"),
            Some("Das tut uns leid.")
        );
        assert!(settings.words.set("de.apology", "Sorry {ref}").is_err());
        assert_eq!(settings.words.get("en", "apology"), None);
        // Stored when the promise still filled in {minutes}: not shown any more.
        settings.words = OwnWords(BTreeMap::from([(
            "en".to_owned(),
            BTreeMap::from([(
                "promise_look".to_owned(),
                "{owner} will look within {minutes} minutes.".to_owned(),
            )]),
        )]));
        assert_eq!(
            for_site(&settings, "en").promise_look,
            english().promise_look
        );
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
        let words = for_site(&settings, "en");
        assert_eq!(words.question, "How was your order?");
        assert_eq!(words.done_miss, "Thanks. Your order's case: {ref}");
        assert_eq!(words.send, english().send);

        for (line, why) in [
            ("en.question How was it?", "write LANGUAGE.WORD"),
            ("question = How was it?", "name a language"),
            ("xx.question = Wie war es?", "speaks en, es"),
            ("en.launcher = Rate us", "data-label"),
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
