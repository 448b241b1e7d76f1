//! The two tail probabilities the report's signals need — the chi-square
//! distribution's (the last-digit test) and the standard normal's (the
//! integer-percent test) — from `statrs`, the field's statistics crate.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// P(X ≥ x) for X chi-square distributed with `df` degrees of freedom (1
/// for x ≤ 0; `df` must be positive).
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    ChiSquared::new(df).map_or(f64::NAN, |d| d.sf(x))
}

/// P(Z ≥ z) for a standard normal Z.
pub fn normal_sf(z: f64) -> f64 {
    Normal::standard().sf(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn tail_probabilities_match_the_tables() {
        // Chi-square critical values with 9 degrees of freedom.
        assert!(close(chi_square_sf(16.919, 9.0), 0.05, 1e-4));
        assert!(close(chi_square_sf(21.666, 9.0), 0.01, 1e-4));
        assert!(close(chi_square_sf(0.0, 9.0), 1.0, 1e-12));
        assert!(close(chi_square_sf(3.841, 1.0), 0.05, 1e-4));
        assert!(close(normal_sf(1.959_964), 0.025, 1e-6));
        assert!(close(normal_sf(0.0), 0.5, 1e-12));
        assert!(close(normal_sf(-1.644_854), 0.95, 1e-6));
    }
}
