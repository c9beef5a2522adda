//! Distributions of handle times and customer patience.

use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// A duration distribution, in seconds, as written in scenario files:
/// `{ distribution = "exponential", mean_seconds = 180 }`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "distribution", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    Exponential {
        mean_seconds: f64,
    },
    /// Handle times in real centers are right-skewed: lognormal fits them well.
    Lognormal {
        mean_seconds: f64,
        sd_seconds: f64,
    },
    Fixed {
        seconds: f64,
    },
    Uniform {
        min_seconds: f64,
        max_seconds: f64,
    },
}

impl Dist {
    /// Checks the parameters; the error names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be a positive number of seconds, got {v}"))
            }
        };
        match *self {
            Dist::Exponential { mean_seconds } => positive("mean_seconds", mean_seconds),
            Dist::Lognormal { mean_seconds, sd_seconds } => {
                positive("mean_seconds", mean_seconds)?;
                positive("sd_seconds", sd_seconds)
            }
            Dist::Fixed { seconds } => positive("seconds", seconds),
            Dist::Uniform { min_seconds, max_seconds } => {
                if min_seconds.is_finite()
                    && min_seconds >= 0.0
                    && max_seconds.is_finite()
                    && max_seconds >= min_seconds
                {
                    Ok(())
                } else {
                    Err(format!("uniform needs 0 <= min_seconds <= max_seconds, got {min_seconds} and {max_seconds}"))
                }
            }
        }
    }

    pub fn mean_seconds(&self) -> f64 {
        match *self {
            Dist::Exponential { mean_seconds } | Dist::Lognormal { mean_seconds, .. } => mean_seconds,
            Dist::Fixed { seconds } => seconds,
            Dist::Uniform { min_seconds, max_seconds } => (min_seconds + max_seconds) / 2.0,
        }
    }

    pub fn sample(&self, rng: &mut Rng) -> f64 {
        match *self {
            Dist::Exponential { mean_seconds } => exponential(rng, mean_seconds),
            Dist::Lognormal { mean_seconds, sd_seconds } => {
                // Parameters of the underlying normal from the mean and sd.
                let sigma2 = (1.0 + (sd_seconds / mean_seconds).powi(2)).ln();
                let mu = mean_seconds.ln() - sigma2 / 2.0;
                (mu + sigma2.sqrt() * standard_normal(rng)).exp()
            }
            Dist::Fixed { seconds } => seconds,
            Dist::Uniform { min_seconds, max_seconds } => min_seconds + rng.next_f64() * (max_seconds - min_seconds),
        }
    }
}

pub fn exponential(rng: &mut Rng, mean: f64) -> f64 {
    // 1 - U is in (0, 1], so the logarithm is finite.
    -mean * (1.0 - rng.next_f64()).ln()
}

/// Box–Muller; one of the pair is enough here.
fn standard_normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.next_f64();
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(d: Dist) -> (f64, f64) {
        let mut rng = Rng::seeded(3);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn samples_have_the_configured_moments() {
        let (m, sd) = moments(Dist::Exponential { mean_seconds: 180.0 });
        assert!((m - 180.0).abs() < 2.0 && (sd - 180.0).abs() < 3.0, "{m} {sd}");
        let (m, sd) = moments(Dist::Lognormal { mean_seconds: 300.0, sd_seconds: 120.0 });
        assert!((m - 300.0).abs() < 2.0 && (sd - 120.0).abs() < 3.0, "{m} {sd}");
        assert_eq!(moments(Dist::Fixed { seconds: 60.0 }), (60.0, 0.0));
        let (m, _) = moments(Dist::Uniform { min_seconds: 10.0, max_seconds: 20.0 });
        assert!((m - 15.0).abs() < 0.1);
    }

    #[test]
    fn bad_parameters_are_named() {
        assert!(Dist::Exponential { mean_seconds: -1.0 }.validate().unwrap_err().contains("mean_seconds"));
        assert!(Dist::Uniform { min_seconds: 5.0, max_seconds: 1.0 }.validate().is_err());
    }
}
