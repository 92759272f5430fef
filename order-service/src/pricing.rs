//! An order's lines validated and priced, and the limits they are held to.
//! What the order as a whole costs is shared-lib's discount rule
//! ([`shared_lib::discount`]), applied by the handler.

use shared_lib::error::ApiError;
use shared_lib::validate::bounded_text;
use shared_lib::wire::{CreateOrder, OrderLine};

use crate::error::{OrderError, codes};

/// Most lines in one order.
pub const MAX_ITEMS: usize = 100;
/// Most units of one line.
pub const MAX_QUANTITY: u32 = 1_000_000;
/// Longest SKU, in characters.
pub const MAX_SKU_CHARS: usize = 64;

/// Validates the lines of an order and prices each one.
pub fn price_lines(order: &CreateOrder) -> Result<Vec<OrderLine>, ApiError> {
    if order.items.is_empty() || order.items.len() > MAX_ITEMS {
        return Err(OrderError::InvalidItems { max: MAX_ITEMS }.into());
    }
    if order.user_id == 0 {
        return Err(OrderError::UnknownUser(0).into());
    }
    order
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let sku = bounded_text(
                &format!("items[{i}].sku"),
                codes::INVALID_SKU,
                &item.sku,
                MAX_SKU_CHARS,
            )?;
            if item.quantity == 0 || item.quantity > MAX_QUANTITY {
                return Err(OrderError::InvalidQuantity {
                    line: i,
                    max: MAX_QUANTITY,
                }
                .into());
            }
            Ok(OrderLine {
                sku,
                quantity: item.quantity,
                unit_price_cents: item.unit_price_cents,
                line_total_cents: item
                    .unit_price_cents
                    .checked_mul(item.quantity)
                    .map_err(overflow)?,
            })
        })
        .collect()
}

/// An amount past the largest one: 422 `amount_overflow`.
pub fn overflow(_: shared_lib::money::MoneyError) -> ApiError {
    OrderError::AmountOverflow.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_lib::money::{Cents, MAX_CENTS};
    use shared_lib::wire::OrderItem;

    fn order(items: &[(&str, u32, u64)]) -> CreateOrder {
        CreateOrder {
            user_id: 1,
            items: items
                .iter()
                .map(|(sku, quantity, cents)| OrderItem {
                    sku: sku.to_string(),
                    quantity: *quantity,
                    unit_price_cents: Cents::new(*cents).unwrap(),
                })
                .collect(),
        }
    }

    #[test]
    fn lines_are_trimmed_and_priced() {
        let lines = price_lines(&order(&[(" BOOK ", 3, 1999), ("PEN", 1, 250)])).unwrap();
        assert_eq!(lines[0].sku, "BOOK");
        assert_eq!(lines[0].line_total_cents.get(), 5_997);
        assert_eq!(lines[1].line_total_cents.get(), 250);
    }

    #[test]
    fn bad_lines_are_named_by_index() {
        let cases = [
            (order(&[]), "invalid_items"),
            (order(&[("A", 1, 1), ("", 1, 1)]), "invalid_sku"),
            (order(&[("A", 0, 1)]), "invalid_quantity"),
            (order(&[("A", MAX_QUANTITY + 1, 1)]), "invalid_quantity"),
            (order(&[("A", 1_000_000, MAX_CENTS)]), "amount_overflow"),
        ];
        for (o, code) in cases {
            assert_eq!(price_lines(&o).unwrap_err().code(), code, "{o:?}");
        }
        let err = price_lines(&order(&[("A", 1, 1), ("", 1, 1)])).unwrap_err();
        assert!(
            err.message().starts_with("items[1].sku"),
            "{}",
            err.message()
        );
        let mut zero = order(&[("A", 1, 1)]);
        zero.user_id = 0;
        assert_eq!(price_lines(&zero).unwrap_err().code(), "unknown_user");
    }
}
