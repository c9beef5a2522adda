//! Caller verification's pure part: whether what a customer keyed matches
//! what their record holds, and the outcomes a `verify` block reports. The
//! host fetches the record (and checks a PIN against its hash, which needs
//! no comparing here); see [`super::definition::Verify`].

use super::definition::{Check, DateOrder, PIN_MAX, PIN_MIN};
use crate::expr::Value;
use serde::{Deserialize, Serialize};

/// How a contact's verification ended, as recorded on the contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The customer keyed the right answer.
    Verified,
    /// Every attempt was wrong (or silent): locked out.
    Failed,
    /// There was nothing to check against (no customer known, no PIN set,
    /// no such attribute), so the customer could not be verified.
    NotAttempted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::Failed => "failed",
            Outcome::NotAttempted => "not_attempted",
        }
    }
}

/// What the host found when it checked one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checked {
    Match,
    Mismatch,
    /// Nothing to compare with: asking again cannot help.
    Unavailable,
}

/// Compares a keyed answer with the attribute `stored` (`None` when the
/// customer has no such attribute). A value that cannot be keyed (an
/// account number with letters, a date that is not `YYYY-MM-DD`) is
/// unavailable rather than a mismatch every time.
pub fn compare(check: Check, order: DateOrder, keyed: &str, stored: Option<&Value>) -> Checked {
    let expected = match (check, stored) {
        (Check::AccountNumber, Some(v)) => account_digits(v),
        (Check::DateOfBirth, Some(Value::Str(s))) => stored_date(s),
        _ => None,
    };
    let Some(expected) = expected else { return Checked::Unavailable };
    let given = match check {
        Check::DateOfBirth => keyed_date(keyed, order),
        _ => Some(keyed.to_string()),
    };
    if given.is_some_and(|g| g == expected) { Checked::Match } else { Checked::Mismatch }
}

/// Whether `pin` can be a PIN: digits only, as many as a caller can key.
pub fn valid_pin(pin: &str) -> bool {
    (usize::from(PIN_MIN)..=usize::from(PIN_MAX)).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// An account number as keys: its digits, when separators (spaces, dashes,
/// dots, slashes) are all it has besides; a whole number as written.
fn account_digits(v: &Value) -> Option<String> {
    let digits: String = match v {
        Value::Str(s) => {
            if !s.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '/')) {
                return None;
            }
            s.chars().filter(char::is_ascii_digit).collect()
        }
        Value::Num(n) if n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n < 1e15 => format!("{}", *n as u64),
        _ => return None,
    };
    (!digits.is_empty()).then_some(digits)
}

/// `YYYY-MM-DD` (a real date) as `YYYYMMDD`.
fn stored_date(s: &str) -> Option<String> {
    let mut parts = s.trim().split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    date(y, m, d)
}

/// Eight keyed digits in `order` as `YYYYMMDD`, when they are a real date.
fn keyed_date(keyed: &str, order: DateOrder) -> Option<String> {
    if keyed.len() != 8 || !keyed.is_ascii() {
        return None;
    }
    let (y, m, d) = match order {
        DateOrder::Mdy => (&keyed[4..], &keyed[..2], &keyed[2..4]),
        DateOrder::Dmy => (&keyed[4..], &keyed[2..4], &keyed[..2]),
        DateOrder::Ymd => (&keyed[..4], &keyed[4..6], &keyed[6..]),
    };
    date(y, m, d)
}

fn date(y: &str, m: &str, d: &str) -> Option<String> {
    let all_digits = [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    let (year, month, day): (u32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (all_digits && year > 0 && (1..=days).contains(&day)).then(|| format!("{y}{m}{d}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    #[test]
    fn account_numbers_compare_by_their_digits() {
        let acct = Some(s("0042-7781 99"));
        assert_eq!(compare(Check::AccountNumber, DateOrder::Mdy, "0042778199", acct.as_ref()), Checked::Match);
        assert_eq!(compare(Check::AccountNumber, DateOrder::Mdy, "042778199", acct.as_ref()), Checked::Mismatch);
        let n = Some(Value::Num(778199.0));
        assert_eq!(compare(Check::AccountNumber, DateOrder::Mdy, "778199", n.as_ref()), Checked::Match);
        // Letters cannot be keyed; nothing at all cannot be matched.
        assert_eq!(compare(Check::AccountNumber, DateOrder::Mdy, "1", Some(&s("AB-1"))), Checked::Unavailable);
        assert_eq!(compare(Check::AccountNumber, DateOrder::Mdy, "1", None), Checked::Unavailable);
        assert_eq!(compare(Check::AccountNumber, DateOrder::Mdy, "", Some(&s(" - "))), Checked::Unavailable);
        assert_eq!(compare(Check::AccountNumber, DateOrder::Mdy, "1", Some(&Value::Num(-1.0))), Checked::Unavailable);
    }

    #[test]
    fn dates_of_birth_in_each_order() {
        let dob = Some(s("1976-07-04"));
        let at = |order, keyed| compare(Check::DateOfBirth, order, keyed, dob.as_ref());
        assert_eq!(at(DateOrder::Mdy, "07041976"), Checked::Match);
        assert_eq!(at(DateOrder::Dmy, "04071976"), Checked::Match);
        assert_eq!(at(DateOrder::Ymd, "19760704"), Checked::Match);
        assert_eq!(at(DateOrder::Mdy, "04071976"), Checked::Mismatch);
        assert_eq!(at(DateOrder::Mdy, "0704197"), Checked::Mismatch);
        // Not a date at all is a mismatch too, never a panic.
        assert_eq!(at(DateOrder::Mdy, "13401976"), Checked::Mismatch);
        assert_eq!(at(DateOrder::Mdy, "0704197é"), Checked::Mismatch);
        assert_eq!(at(DateOrder::Ymd, "+1760704"), Checked::Mismatch);
        let leap = |stored: &str, keyed| compare(Check::DateOfBirth, DateOrder::Ymd, keyed, Some(&s(stored)));
        assert_eq!(leap("2000-02-29", "20000229"), Checked::Match);
        assert_eq!(leap("1900-02-29", "19000229"), Checked::Unavailable);
        assert_eq!(leap("04/07/1976", "19760704"), Checked::Unavailable);
        assert_eq!(
            compare(Check::DateOfBirth, DateOrder::Mdy, "07041976", Some(&Value::Num(1.0))),
            Checked::Unavailable
        );
    }

    #[test]
    fn pins_are_four_to_twelve_digits() {
        assert!(valid_pin("1234"));
        assert!(valid_pin("123456789012"));
        assert!(!valid_pin("123"));
        assert!(!valid_pin("1234567890123"));
        assert!(!valid_pin("12a4"));
        assert!(!valid_pin("١٢٣٤"));
    }

    proptest::proptest! {
        #[test]
        fn comparing_never_panics(keyed in "\\PC{0,12}", stored in "\\PC{0,12}", order in 0..3u8) {
            let order = [DateOrder::Mdy, DateOrder::Dmy, DateOrder::Ymd][usize::from(order)];
            for check in [Check::Pin, Check::AccountNumber, Check::DateOfBirth] {
                let got = compare(check, order, &keyed, Some(&Value::Str(stored.clone())));
                // A PIN is never compared here: it is hashed.
                proptest::prop_assert!(check != Check::Pin || got == Checked::Unavailable);
            }
        }
    }
}
