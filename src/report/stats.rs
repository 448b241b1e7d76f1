//! The few statistical functions the report's signals need: the chi-square
//! and normal tail probabilities, through the regularised incomplete gamma
//! function (series and continued fraction, as in Numerical Recipes §6.2).

/// Iterations after which the series or continued fraction has converged
/// for every argument the report uses (they need a few dozen).
const MAX_ITERATIONS: usize = 500;
/// Relative precision aimed at.
const EPSILON: f64 = 1e-14;

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9).
pub fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = COEFFICIENTS[1..].iter().enumerate().fold(COEFFICIENTS[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Q(a, x) = Γ(a, x) / Γ(a), the upper regularised incomplete gamma function.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let log_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        // Series for P(a, x).
        let (mut term, mut sum, mut n) = (1.0 / a, 1.0 / a, a);
        for _ in 0..MAX_ITERATIONS {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * EPSILON {
                break;
            }
        }
        (1.0 - sum * log_prefix.exp()).clamp(0.0, 1.0)
    } else {
        // Continued fraction for Q(a, x) (modified Lentz).
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..=MAX_ITERATIONS {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < EPSILON {
                break;
            }
        }
        (log_prefix.exp() * h).clamp(0.0, 1.0)
    }
}

/// P(X ≥ x) for X chi-square distributed with `df` degrees of freedom.
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    gamma_q(df / 2.0, x / 2.0)
}

/// P(Z ≥ z) for a standard normal Z.
pub fn normal_sf(z: f64) -> f64 {
    // erfc(t) = Q(1/2, t²) for t ≥ 0.
    let t = z / std::f64::consts::SQRT_2;
    if t >= 0.0 {
        0.5 * gamma_q(0.5, t * t)
    } else {
        1.0 - 0.5 * gamma_q(0.5, t * t)
    }
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
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-12));
        assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-12));
    }
}
