//! How a generated error counter grows, stretch by stretch: quiet, hovering around the 0.1/s
//! threshold, exactly on it, or bursting. Shared by the conformance suites' generators.

use crate::rng::SplitMix64;

/// How fast the counter grows during a stretch of the series.
#[derive(Clone, Copy)]
enum Regime {
    /// Mostly flat, an occasional error.
    Quiet,
    /// Mean increment close to 1.5 per 15 s, i.e. a rate close to the 0.1/s threshold.
    Hover { mean: f64 },
    /// Exactly 1.5 per scrape: a rate of exactly 0.1/s in theory, a coin toss in floating point.
    OnThreshold,
    /// Well above the threshold.
    Burst,
}

/// The current stretch and how many scrapes it has left.
pub struct Growth {
    regime: Regime,
    left: usize,
}

impl Growth {
    pub fn new() -> Growth {
        Growth {
            regime: Regime::Quiet,
            left: 0,
        }
    }

    /// One scrape interval's increment (whole errors unless `fractional`), starting a new
    /// stretch of 8 to 59 scrapes when the current one is over.
    pub fn increment(&mut self, rng: &mut SplitMix64, fractional: bool) -> f64 {
        if self.left == 0 {
            self.left = rng.between(8, 60);
            self.regime = match rng.between(0, 10) {
                0..=2 => Regime::Quiet,
                3..=6 => Regime::Hover {
                    mean: 1.2 + 0.6 * rng.unit(),
                },
                7 => Regime::OnThreshold,
                _ => Regime::Burst,
            };
        }
        self.left -= 1;
        match self.regime {
            Regime::Quiet => f64::from(u8::from(rng.chance(0.1))),
            Regime::Hover { mean } if fractional => 2.0 * mean * rng.unit(),
            // Integers 0..=3 with the given mean: 1 or 2, sometimes 0 or 3.
            Regime::Hover { mean } => {
                let base = if rng.chance(mean - 1.0) { 2.0 } else { 1.0 };
                match rng.between(0, 8) {
                    0 => base - 1.0,
                    1 => base + 1.0,
                    _ => base,
                }
            }
            Regime::OnThreshold => 1.5,
            Regime::Burst => rng.between(2, 7) as f64,
        }
    }
}
