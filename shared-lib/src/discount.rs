//! The fleet's discount rule.
//!
//! As in the original system, every order gets a random whole percentage
//! between 0 and 20 inclusive, drawn uniformly. Since 0.2, an order of at
//! least 10 units gets a volume bonus of 5 more percentage points (so at
//! most 25 %). The percentages come from a [`DiscountRng`], a parameter, so
//! tests and reproducible runs pass a seeded one:
//!
//! ```
//! use shared_lib::discount::{DiscountRng, DiscountRule};
//! use shared_lib::money::Cents;
//!
//! let mut rng = DiscountRng::seeded(7);
//! let rule = DiscountRule::STANDARD;
//! let discount = rule.price(Cents::new(10_000).unwrap(), 12, &mut rng);
//! assert_eq!(discount.volume_bonus, 5); // 12 units: volume bonus
//! assert!((5..=25).contains(&discount.percent));
//! assert_eq!(discount.amount, Cents::new(10_000).unwrap().percent(discount.percent));
//! assert_eq!(discount.total.get() + discount.amount.get(), 10_000);
//! ```
//!
//! The amount is rounded as [`Cents::percent`] documents (half up).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::money::Cents;

/// Where the drawn percentages come from: seeded (tests, reproducible
/// runs: the same seed draws the same percentages) or seeded from the
/// operating system. The generator underneath is shared-lib's business.
#[derive(Debug, Clone)]
pub struct DiscountRng(StdRng);

impl DiscountRng {
    /// Draws that repeat for the same `seed`.
    pub fn seeded(seed: u64) -> DiscountRng {
        DiscountRng(StdRng::seed_from_u64(seed))
    }

    /// Draws seeded from the operating system's randomness.
    pub fn from_os() -> DiscountRng {
        DiscountRng(StdRng::from_os_rng())
    }
}

/// A discount rule: a uniformly drawn percentage from 0 to `max_percent`,
/// plus `volume_bonus` points for orders of at least `volume_threshold` units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscountRule {
    /// The largest percentage the rule may draw (inclusive).
    max_percent: u8,
    /// Orders of at least this many units get the volume bonus.
    volume_threshold: u64,
    /// Percentage points added for volume orders.
    volume_bonus: u8,
}

/// A discount applied to a subtotal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    /// The whole percentage taken off: the drawn one plus the volume bonus.
    pub percent: u8,
    /// The part of `percent` that is the volume bonus (0 for small orders).
    pub volume_bonus: u8,
    /// The amount taken off the subtotal.
    pub amount: Cents,
    /// The subtotal minus the discount amount.
    pub total: Cents,
}

impl DiscountRule {
    /// 0 to 20 % drawn, plus 5 points for orders of 10 units or more.
    pub const STANDARD: DiscountRule = DiscountRule {
        max_percent: 20,
        volume_threshold: 10,
        volume_bonus: 5,
    };

    /// The largest percentage this rule draws.
    pub const fn max_percent(self) -> u8 {
        self.max_percent
    }

    /// The fewest units an order needs for the volume bonus.
    pub const fn volume_threshold(self) -> u64 {
        self.volume_threshold
    }

    /// The volume bonus for an order of `units` units.
    pub const fn volume_bonus_for(self, units: u64) -> u8 {
        if units >= self.volume_threshold {
            self.volume_bonus
        } else {
            0
        }
    }

    /// Draws a percentage from 0 to [`DiscountRule::max_percent`], inclusive.
    pub fn draw(self, rng: &mut DiscountRng) -> u8 {
        rng.0.random_range(0..=self.max_percent)
    }

    /// Applies a `drawn` percentage (capped at the rule's maximum) plus the
    /// volume bonus for `units` to `subtotal`, rounded half up.
    pub fn apply(self, subtotal: Cents, drawn: u8, units: u64) -> Discount {
        let volume_bonus = self.volume_bonus_for(units);
        let percent = drawn.min(self.max_percent).saturating_add(volume_bonus);
        let amount = subtotal.percent(percent);
        let total = subtotal.checked_sub(amount).unwrap_or(Cents::ZERO);
        Discount {
            percent,
            volume_bonus,
            amount,
            total,
        }
    }

    /// Draws a percentage with `rng` and applies it, with the volume bonus
    /// for an order of `units` units, to `subtotal`.
    pub fn price(self, subtotal: Cents, units: u64, rng: &mut DiscountRng) -> Discount {
        let drawn = self.draw(rng);
        self.apply(subtotal, drawn, units)
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
        let mut rng = DiscountRng::seeded(1);
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
            let mut rng = DiscountRng::seeded(seed);
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
        let d = rule.apply(Cents::new(250).unwrap(), 5, 1);
        assert_eq!((d.amount.get(), d.total.get()), (13, 237));
        let d = rule.apply(Cents::new(9_999).unwrap(), 20, 1);
        assert_eq!((d.amount.get(), d.total.get()), (2_000, 7_999));
        let d = rule.apply(Cents::new(100).unwrap(), 0, 1);
        assert_eq!((d.amount.get(), d.total.get()), (0, 100));
    }

    #[test]
    fn a_percentage_above_the_maximum_is_capped() {
        let d = DiscountRule::STANDARD.apply(Cents::new(1_000).unwrap(), 90, 1);
        assert_eq!(d.percent, 20);
        assert_eq!(d.amount.get(), 200);
    }

    #[test]
    fn ten_units_or_more_add_the_volume_bonus() {
        let rule = DiscountRule::STANDARD;
        let small = rule.apply(Cents::new(1_000).unwrap(), 10, 9);
        assert_eq!((small.percent, small.volume_bonus), (10, 0));
        let volume = rule.apply(Cents::new(1_000).unwrap(), 10, 10);
        assert_eq!(
            (volume.percent, volume.volume_bonus, volume.amount.get()),
            (15, 5, 150)
        );
        let capped = rule.apply(Cents::new(1_000).unwrap(), 99, 1_000);
        assert_eq!((capped.percent, capped.volume_bonus), (25, 5));
    }
}
