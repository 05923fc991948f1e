//! The score control: a WAI-ARIA radio group with a roving tabindex. Arrow keys move and
//! check; Space, Enter or a click chooses the checked score (only a choice sends).

use crate::dom;
use crate::text;
use nearmiss_core::Scale;
use web_sys::Element;

pub struct ScoreGroup {
    pub group: Element,
    /// The radios with their scores, lowest first.
    pub radios: Vec<(i64, Element)>,
}

impl ScoreGroup {
    pub fn build(parent: &Element, scale: Scale, labelled_by: &str) -> ScoreGroup {
        let group = dom::add(parent, "div", "scores");
        dom::attrs(
            &group,
            &[("role", "radiogroup"), ("aria-labelledby", labelled_by)],
        );
        if scale == Scale::Ten {
            group.set_class_name("scores ten");
        }
        let top = scale.max().to_string();
        let radios = (scale.min()..=scale.max())
            .map(|score| {
                let number = score.to_string();
                let face = if scale == Scale::Stars5 {
                    "★"
                } else {
                    number.as_str()
                };
                let radio = dom::add_text(&group, "div", "score", face);
                let mut label = number.clone();
                label.push_str(text::OF);
                label.push_str(&top);
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
                (score, radio)
            })
            .collect();
        ScoreGroup { group, radios }
    }

    /// The index of the checked radio.
    pub fn checked(&self) -> Option<usize> {
        self.radios
            .iter()
            .position(|(_, r)| r.get_attribute("aria-checked").as_deref() == Some("true"))
    }

    /// Checks the radio at `index`, makes it the one tab stop, and focuses it.
    pub fn check(&self, index: usize) {
        for (i, (_, radio)) in self.radios.iter().enumerate() {
            let on = i == index;
            dom::attrs(
                radio,
                &[
                    ("aria-checked", if on { "true" } else { "false" }),
                    ("tabindex", if on { "0" } else { "-1" }),
                ],
            );
            if i <= index {
                let _ = radio.set_attribute("data-lit", "");
            } else {
                let _ = radio.remove_attribute("data-lit");
            }
        }
        if let Some((_, radio)) = self.radios.get(index) {
            dom::focus(radio);
        }
    }
}

/// Where a key moves the check in a group of `len` radios; `None` for other keys.
pub fn key_target(key: &str, current: Option<usize>, len: usize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let last = len - 1;
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
        assert_eq!(key_target("ArrowRight", None, 5), Some(0));
        assert_eq!(key_target("ArrowRight", Some(4), 5), Some(0));
        assert_eq!(key_target("ArrowDown", Some(1), 5), Some(2));
        assert_eq!(key_target("ArrowLeft", Some(0), 5), Some(4));
        assert_eq!(key_target("ArrowUp", None, 5), Some(4));
        assert_eq!(key_target("Home", Some(3), 5), Some(0));
        assert_eq!(key_target("End", Some(0), 11), Some(10));
        assert_eq!(key_target("a", Some(0), 5), None);
        assert_eq!(key_target("ArrowRight", None, 0), None);
    }
}
