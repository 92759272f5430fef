//! Money in integer cents.
//!
//! Amounts are never floats: they are whole cents in a [`Cents`], checked on
//! every operation. The largest amount is [`MAX_CENTS`] (2^53 - 1), the
//! largest integer every JSON client (JavaScript included) reads exactly, so
//! an amount that leaves a service is never silently rounded by its reader.
//!
//! Rounding rule: a percentage of an amount ([`Cents::percent`]) is rounded
//! half up to the nearest cent (12.5 cents becomes 13 cents). It is the only
//! place where rounding happens.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The largest amount in cents: 2^53 - 1.
pub const MAX_CENTS: u64 = 9_007_199_254_740_991;

/// An amount of money in whole cents, between 0 and [`MAX_CENTS`].
///
/// ```
/// use shared_lib::money::Cents;
/// let price = Cents::new(1_250).unwrap();
/// assert_eq!(price.checked_mul(3).unwrap(), Cents::new(3_750).unwrap());
/// assert_eq!(price.to_string(), "12.50");
/// ```
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(try_from = "u64", into = "u64")]
#[schema(value_type = u64, minimum = 0, maximum = 9_007_199_254_740_991_u64)]
pub struct Cents(u64);

/// Why an amount could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyError {
    /// The result is larger than [`MAX_CENTS`].
    Overflow,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::Overflow => write!(f, "amount exceeds the maximum of {MAX_CENTS} cents"),
        }
    }
}

impl std::error::Error for MoneyError {}

impl Cents {
    /// Zero cents.
    pub const ZERO: Cents = Cents(0);

    /// An amount, or [`MoneyError::Overflow`] above [`MAX_CENTS`].
    pub fn new(cents: u64) -> Result<Cents, MoneyError> {
        if cents > MAX_CENTS {
            Err(MoneyError::Overflow)
        } else {
            Ok(Cents(cents))
        }
    }

    /// The amount as a number of cents.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// `self + other`, or an error above [`MAX_CENTS`].
    pub fn checked_add(self, other: Cents) -> Result<Cents, MoneyError> {
        Cents::new(self.0.checked_add(other.0).ok_or(MoneyError::Overflow)?)
    }

    /// `self - other`, or `None` when `other` is larger.
    pub fn checked_sub(self, other: Cents) -> Option<Cents> {
        self.0.checked_sub(other.0).map(Cents)
    }

    /// `self * quantity` (a line total), or an error above [`MAX_CENTS`].
    pub fn checked_mul(self, quantity: u32) -> Result<Cents, MoneyError> {
        Cents::new(
            self.0
                .checked_mul(u64::from(quantity))
                .ok_or(MoneyError::Overflow)?,
        )
    }

    /// `percent` % of this amount, rounded half up to a whole cent.
    /// `percent` is capped at 100, so the result never exceeds `self`.
    ///
    /// ```
    /// use shared_lib::money::Cents;
    /// assert_eq!(Cents::new(1_000).unwrap().percent(15).get(), 150);
    /// assert_eq!(Cents::new(250).unwrap().percent(5).get(), 13); // 12.5 rounds up
    /// assert_eq!(Cents::new(249).unwrap().percent(5).get(), 12); // 12.45 rounds down
    /// ```
    pub fn percent(self, percent: u8) -> Cents {
        let percent = u128::from(percent.min(100));
        let scaled = (u128::from(self.0) * percent + 50) / 100;
        // percent <= 100 keeps `scaled` <= self.0, which fits in u64.
        Cents(u64::try_from(scaled).unwrap_or(self.0))
    }
}

impl TryFrom<u64> for Cents {
    type Error = MoneyError;

    fn try_from(cents: u64) -> Result<Cents, MoneyError> {
        Cents::new(cents)
    }
}

impl From<Cents> for u64 {
    fn from(cents: Cents) -> u64 {
        cents.0
    }
}

impl fmt::Display for Cents {
    /// Formats as units and two decimals, without a currency: `1234` is `12.34`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// The sum of `unit_price * quantity` over `lines`, checked for overflow.
///
/// ```
/// use shared_lib::money::{subtotal, Cents};
/// let lines = [(Cents::new(250).unwrap(), 2), (Cents::new(1_000).unwrap(), 1)];
/// assert_eq!(subtotal(lines).unwrap().get(), 1_500);
/// ```
pub fn subtotal(lines: impl IntoIterator<Item = (Cents, u32)>) -> Result<Cents, MoneyError> {
    lines
        .into_iter()
        .try_fold(Cents::ZERO, |sum, (price, quantity)| {
            sum.checked_add(price.checked_mul(quantity)?)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_above_the_json_safe_maximum_are_refused() {
        assert_eq!(Cents::new(MAX_CENTS).map(Cents::get), Ok(MAX_CENTS));
        assert_eq!(Cents::new(MAX_CENTS + 1), Err(MoneyError::Overflow));
        let max = Cents::new(MAX_CENTS).unwrap();
        assert_eq!(
            max.checked_add(Cents::new(1).unwrap()),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(Cents::new(u64::MAX / 2).err(), Some(MoneyError::Overflow));
    }

    #[test]
    fn multiplication_that_overflows_u64_is_an_error_not_a_wrap() {
        let big = Cents::new(MAX_CENTS).unwrap();
        assert_eq!(big.checked_mul(u32::MAX), Err(MoneyError::Overflow));
    }

    #[test]
    fn percent_rounds_half_up_and_never_exceeds_the_amount() {
        let max = Cents::new(MAX_CENTS).unwrap();
        assert_eq!(max.percent(100), max);
        assert_eq!(max.percent(200), max);
        assert_eq!(Cents::new(1).unwrap().percent(50).get(), 1);
        assert_eq!(Cents::new(1).unwrap().percent(49).get(), 0);
        assert_eq!(Cents::ZERO.percent(20), Cents::ZERO);
    }

    #[test]
    fn json_rejects_amounts_out_of_range() {
        let ok: Cents = serde_json::from_str("42").unwrap();
        assert_eq!(ok.get(), 42);
        assert!(serde_json::from_str::<Cents>("9007199254740992").is_err());
        assert!(serde_json::from_str::<Cents>("-1").is_err());
        assert!(serde_json::from_str::<Cents>("1.5").is_err());
        assert_eq!(serde_json::to_string(&ok).unwrap(), "42");
    }

    #[test]
    fn subtotal_overflow_is_reported() {
        let max = Cents::new(MAX_CENTS).unwrap();
        assert_eq!(
            subtotal([(max, 1), (Cents::new(1).unwrap(), 1)]),
            Err(MoneyError::Overflow)
        );
        assert_eq!(subtotal(std::iter::empty()), Ok(Cents::ZERO));
    }
}
