//! The score control: a WAI-ARIA radio group with a roving tabindex. Arrow keys move and
//! check; Space, Enter or a click chooses the checked score (only a choice sends).

use crate::dom;
use crate::js::Element;
use crate::site::Site;
use alloc::vec::Vec;
use nearmiss_core::Scale;

pub struct ScoreGroup {
    pub scale: Scale,
    /// The radios, lowest score first.
    pub radios: Vec<Element>,
}

impl ScoreGroup {
    /// The group in `parent`, labelled by `labelled_by`; a screen reader hears "3 of 5",
    /// and at the ends of 0 to 10 the words under them ("0 of 10, Very poor").
    pub fn build(parent: &Element, site: &Site, labelled_by: &str) -> ScoreGroup {
        let scale = site.scale;
        let of = site.word("of");
        let class = if scale == Scale::Ten {
            "scores ten"
        } else {
            "scores"
        };
        let group = dom::add(parent, "div", class);
        dom::attrs(
            &group,
            &[("role", "radiogroup"), ("aria-labelledby", labelled_by)],
        );
        let top = dom::number(scale.max() as u32);
        let radios = (scale.min()..=scale.max())
            .map(|score| {
                let number = dom::number(score as u32);
                let face = if scale == Scale::Stars5 {
                    "★"
                } else {
                    number.as_str()
                };
                let radio = dom::add_text(&group, "div", "score", face);
                let mut label = number.clone();
                label.push(' ');
                label.push_str(&of);
                label.push(' ');
                label.push_str(&top);
                if scale == Scale::Ten && (score == scale.min() || score == scale.max()) {
                    label.push_str(", ");
                    label.push_str(&site.word(if score == 0 {
                        "scale_low"
                    } else {
                        "scale_high"
                    }));
                }
                let tabindex = if score == scale.min() { "0" } else { "-1" };
                dom::attrs(
                    &radio,
                    &[
                        ("role", "radio"),
                        ("aria-checked", "false"),
                        ("tabindex", tabindex),
                        ("aria-label", &label),
                        ("data-score", &number),
                    ],
                );
                radio
            })
            .collect();
        if scale == Scale::Ten {
            // Seen under the row; heard with the end radios' names.
            let ends = dom::add(parent, "div", "ends");
            dom::attrs(&ends, &[("aria-hidden", "true")]);
            site.add(&ends, "span", "", "scale_low");
            site.add(&ends, "span", "", "scale_high");
        }
        ScoreGroup { scale, radios }
    }

    /// The score of a radio of this group.
    pub fn score_of(&self, radio: &Element) -> Option<i64> {
        // Digits read by hand: `str::parse` brings core's integer parser.
        let digits = radio
            .get_attribute("data-score")
            .filter(|d| !d.is_empty())?;
        let score = digits.bytes().try_fold(0i64, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
        })?;
        (score >= self.scale.min() && score <= self.scale.max()).then_some(score)
    }

    /// The index of the checked radio.
    pub fn checked(&self) -> Option<usize> {
        self.radios
            .iter()
            .position(|r| r.get_attribute("aria-checked").as_deref() == Some("true"))
    }

    /// Checks the radio at `index`, makes it the one tab stop, and focuses it.
    pub fn check(&self, index: usize) {
        for (i, radio) in self.radios.iter().enumerate() {
            let on = i == index;
            dom::attrs(
                radio,
                &[
                    ("aria-checked", if on { "true" } else { "false" }),
                    ("tabindex", if on { "0" } else { "-1" }),
                ],
            );
            radio.toggle_attribute("data-lit", i <= index);
        }
        if let Some(radio) = self.radios.get(index) {
            dom::focus(radio);
        }
    }
}

/// Where a key moves the check in a group of `len` radios; `None` for other keys. Left
/// and right follow what the eye sees: right to left (`rtl`), the next score is on the
/// left.
pub fn key_target(key: &str, current: Option<usize>, len: usize, rtl: bool) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let last = len - 1;
    let key = match (key, rtl) {
        ("ArrowLeft", true) => "ArrowRight",
        ("ArrowRight", true) => "ArrowLeft",
        (key, _) => key,
    };
    match key {
        "ArrowRight" | "ArrowDown" => {
            Some(current.map_or(0, |i| if i >= last { 0 } else { i + 1 }))
        }
        "ArrowLeft" | "ArrowUp" => {
            Some(current.map_or(last, |i| if i == 0 { last } else { i - 1 }))
        }
        "Home" => Some(0),
        "End" => Some(last),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::key_target;

    #[test]
    fn arrows_wrap_and_home_end_jump() {
        assert_eq!(key_target("ArrowRight", None, 5, false), Some(0));
        assert_eq!(key_target("ArrowRight", Some(4), 5, false), Some(0));
        assert_eq!(key_target("ArrowDown", Some(1), 5, false), Some(2));
        assert_eq!(key_target("ArrowLeft", Some(0), 5, false), Some(4));
        assert_eq!(key_target("ArrowUp", None, 5, false), Some(4));
        assert_eq!(key_target("Home", Some(3), 5, false), Some(0));
        assert_eq!(key_target("End", Some(0), 11, false), Some(10));
        assert_eq!(key_target("a", Some(0), 5, false), None);
        assert_eq!(key_target("ArrowRight", None, 0, false), None);
    }

    #[test]
    fn right_to_left_the_arrows_follow_the_eye_and_up_down_do_not_change() {
        assert_eq!(key_target("ArrowLeft", Some(1), 5, true), Some(2));
        assert_eq!(key_target("ArrowRight", Some(1), 5, true), Some(0));
        assert_eq!(key_target("ArrowDown", Some(1), 5, true), Some(2));
        assert_eq!(key_target("ArrowUp", Some(1), 5, true), Some(0));
    }
}
