//! How far a forecast fell from what happened.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Accuracy {
    /// Weighted absolute percentage error: Σ|actual − forecast| / Σ actual.
    /// The planners' measure: quiet intervals with a handful of contacts
    /// do not dominate it.
    pub wape: Option<f64>,
    /// Mean absolute percentage error over intervals with contacts.
    pub mape: Option<f64>,
    /// Σ(forecast − actual) / Σ actual: positive when it forecast too much.
    pub bias: Option<f64>,
}

impl Accuracy {
    /// `actual` is `None` where an interval was left out of the history.
    pub fn measure(actual: &[Option<f64>], forecast: &[f64]) -> Accuracy {
        let (mut total, mut abs_error, mut error, mut pct, mut busy) = (0.0, 0.0, 0.0, 0.0, 0u32);
        for (a, f) in actual.iter().zip(forecast) {
            let Some(a) = *a else { continue };
            total += a;
            abs_error += (a - f).abs();
            error += f - a;
            if a > 0.0 {
                pct += (a - f).abs() / a;
                busy += 1;
            }
        }
        let share = |x: f64| (total > 0.0).then(|| x / total);
        Accuracy { wape: share(abs_error), mape: (busy > 0).then(|| pct / f64::from(busy)), bias: share(error) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wape_weighs_by_volume_and_mape_by_interval() {
        let a = Accuracy::measure(&[Some(100.0), Some(1.0), None, Some(0.0)], &[90.0, 2.0, 50.0, 0.0]);
        assert!((a.wape.unwrap() - 11.0 / 101.0).abs() < 1e-12);
        assert!((a.mape.unwrap() - (0.1 + 1.0) / 2.0).abs() < 1e-12);
        assert!((a.bias.unwrap() - (-9.0) / 101.0).abs() < 1e-12);
        assert_eq!(Accuracy::measure(&[Some(0.0)], &[1.0]).wape, None);
    }
}
