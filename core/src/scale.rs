//! Rating scales and the one rule the product is built on: only the top score is perfect.

use serde::{Deserialize, Serialize};

/// The scale a site asks its customers to rate on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Scale {
    /// 1 to 5 stars (the default).
    #[default]
    Stars5,
    /// 0 to 10.
    Ten,
}

impl Scale {
    /// The lowest score on the scale.
    pub fn min(self) -> i64 {
        match self {
            Scale::Stars5 => 1,
            Scale::Ten => 0,
        }
    }

    /// The highest score on the scale: the only perfect one.
    pub fn max(self) -> i64 {
        match self {
            Scale::Stars5 => 5,
            Scale::Ten => 10,
        }
    }

    /// Whether `score` is on this scale.
    pub fn contains(self, score: i64) -> bool {
        (self.min()..=self.max()).contains(&score)
    }
}

impl TryFrom<u8> for Scale {
    type Error = &'static str;

    fn try_from(top: u8) -> Result<Self, Self::Error> {
        match top {
            5 => Ok(Scale::Stars5),
            10 => Ok(Scale::Ten),
            _ => Err("scale must be 5 or 10"),
        }
    }
}

impl From<Scale> for u8 {
    fn from(scale: Scale) -> u8 {
        scale.max() as u8
    }
}

/// Whether `score` is perfect on `scale`: exactly the top of the scale.
///
/// Anything else, however close, is a near miss and opens a case. Never averaged.
pub fn is_perfect(score: i64, scale: Scale) -> bool {
    score == scale.max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_the_top_is_perfect() {
        assert!(is_perfect(5, Scale::Stars5));
        assert!(!is_perfect(4, Scale::Stars5));
        assert!(is_perfect(10, Scale::Ten));
        assert!(!is_perfect(9, Scale::Ten));
        assert!(!is_perfect(5, Scale::Ten));
    }

    #[test]
    fn scale_is_written_as_its_top() {
        assert_eq!(u8::from(Scale::Ten), 10);
        assert_eq!(Scale::try_from(5), Ok(Scale::Stars5));
        assert!(Scale::try_from(7).is_err());
    }

    proptest! {
        #[test]
        fn exactly_one_score_per_scale_is_perfect(score in -1000i64..1000, ten in any::<bool>()) {
            let scale = if ten { Scale::Ten } else { Scale::Stars5 };
            prop_assert_eq!(is_perfect(score, scale), score == scale.max());
            let perfect_on_scale = (scale.min()..=scale.max()).filter(|s| is_perfect(*s, scale)).count();
            prop_assert_eq!(perfect_on_scale, 1);
        }
    }
}
