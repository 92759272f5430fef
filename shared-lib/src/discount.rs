//! The fleet's discount rule.
//!
//! As in the original system, every order gets a random whole percentage
//! between 0 and 20 inclusive, drawn uniformly. The random number generator
//! is a parameter, so tests and reproducible runs pass a seeded one:
//!
//! ```
//! use rand::SeedableRng;
//! use shared_lib::discount::DiscountRule;
//! use shared_lib::money::Cents;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let rule = DiscountRule::STANDARD;
//! let discount = rule.price(Cents::new(10_000).unwrap(), &mut rng);
//! assert!(discount.percent <= 20);
//! assert_eq!(discount.amount, Cents::new(10_000).unwrap().percent(discount.percent));
//! assert_eq!(discount.total.get() + discount.amount.get(), 10_000);
//! ```
//!
//! The amount is rounded as [`Cents::percent`] documents (half up).

use rand::Rng;
pub use rand::SeedableRng;
pub use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::money::Cents;

/// A discount rule: a uniformly drawn percentage from 0 to `max_percent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscountRule {
    /// The largest percentage the rule may draw (inclusive).
    max_percent: u8,
}

/// A discount applied to a subtotal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    /// The drawn percentage.
    pub percent: u8,
    /// The amount taken off the subtotal.
    pub amount: Cents,
    /// The subtotal minus the discount amount.
    pub total: Cents,
}

impl DiscountRule {
    /// The rule of the original system: 0 to 20 %.
    pub const STANDARD: DiscountRule = DiscountRule { max_percent: 20 };

    /// The largest percentage this rule draws.
    pub const fn max_percent(self) -> u8 {
        self.max_percent
    }

    /// Draws a percentage from 0 to [`DiscountRule::max_percent`], inclusive.
    pub fn draw<R: Rng + ?Sized>(self, rng: &mut R) -> u8 {
        rng.random_range(0..=self.max_percent)
    }

    /// Applies a given `percent` to `subtotal` (rounded half up).
    /// A percentage above the rule's maximum is capped at it.
    pub fn apply(self, subtotal: Cents, percent: u8) -> Discount {
        let percent = percent.min(self.max_percent);
        let amount = subtotal.percent(percent);
        let total = subtotal.checked_sub(amount).unwrap_or(Cents::ZERO);
        Discount {
            percent,
            amount,
            total,
        }
    }

    /// Draws a percentage with `rng` and applies it to `subtotal`.
    pub fn price<R: Rng + ?Sized>(self, subtotal: Cents, rng: &mut R) -> Discount {
        let percent = self.draw(rng);
        self.apply(subtotal, percent)
    }
}

impl Default for DiscountRule {
    fn default() -> Self {
        DiscountRule::STANDARD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_cover_exactly_zero_to_twenty() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut seen = [false; 21];
        for _ in 0..5_000 {
            let p = DiscountRule::STANDARD.draw(&mut rng);
            assert!(p <= 20, "drew {p}");
            seen[usize::from(p)] = true;
        }
        assert!(seen.iter().all(|s| *s), "every percentage 0..=20 is drawn");
    }

    #[test]
    fn the_same_seed_gives_the_same_discounts() {
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..10)
                .map(|_| DiscountRule::STANDARD.draw(&mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    #[test]
    fn apply_rounds_half_up_and_keeps_total_plus_amount_equal_to_subtotal() {
        let rule = DiscountRule::STANDARD;
        let d = rule.apply(Cents::new(250).unwrap(), 5);
        assert_eq!((d.amount.get(), d.total.get()), (13, 237));
        let d = rule.apply(Cents::new(9_999).unwrap(), 20);
        assert_eq!((d.amount.get(), d.total.get()), (2_000, 7_999));
        let d = rule.apply(Cents::new(100).unwrap(), 0);
        assert_eq!((d.amount.get(), d.total.get()), (0, 100));
    }

    #[test]
    fn a_percentage_above_the_maximum_is_capped() {
        let d = DiscountRule::STANDARD.apply(Cents::new(1_000).unwrap(), 90);
        assert_eq!(d.percent, 20);
        assert_eq!(d.amount.get(), 200);
    }
}
