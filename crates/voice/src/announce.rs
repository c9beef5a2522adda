//! What a caller waiting in line is told every so often: "You are number 3
//! in line. Your expected wait is about 4 minutes." The sentence is said in
//! pieces — the fixed words and each number apart — so the prompt cache
//! holds each piece once (as Asterisk's queue sounds do) instead of one
//! recording per position and wait.

use std::time::Duration;
use switchboard_service::waiting::PlaceInLine;

/// The pieces to say, in order, for a caller at `place`.
pub fn pieces(place: PlaceInLine) -> Vec<String> {
    let mut out = vec!["You are number".to_string(), place.position.to_string(), "in line.".to_string()];
    let minutes = minutes(place.wait);
    if minutes == 0 {
        out.push("Your expected wait is less than a minute.".into());
    } else {
        out.push("Your expected wait is about".into());
        out.push(minutes.to_string());
        out.push(if minutes == 1 { "minute." } else { "minutes." }.into());
    }
    out
}

/// Whole minutes, to the nearest; under 30 s is none ("less than a minute").
fn minutes(wait: Duration) -> u64 {
    (wait.as_secs() + 30) / 60
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(position: u32, wait: u64) -> String {
        pieces(PlaceInLine { position, wait: Duration::from_secs(wait) }).join(" ")
    }

    #[test]
    fn the_place_and_the_wait_in_words() {
        assert_eq!(said(3, 250), "You are number 3 in line. Your expected wait is about 4 minutes.");
        assert_eq!(said(1, 70), "You are number 1 in line. Your expected wait is about 1 minute.");
        assert_eq!(said(1, 29), "You are number 1 in line. Your expected wait is less than a minute.");
        assert_eq!(said(12, 30), "You are number 12 in line. Your expected wait is about 1 minute.");
        // The numbers are pieces of their own: cached once each.
        let p = pieces(PlaceInLine { position: 7, wait: Duration::from_secs(600) });
        assert_eq!(p[1], "7");
        assert_eq!(p[4], "10");
    }
}
