-- Orders and their lines, written together in one transaction: an order
-- never exists without its lines.
CREATE TABLE orders (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id              INTEGER NOT NULL,
    subtotal_cents       INTEGER NOT NULL,
    discount_percent     INTEGER NOT NULL,
    volume_bonus_percent INTEGER NOT NULL,
    discount_cents       INTEGER NOT NULL,
    total_cents          INTEGER NOT NULL,
    created_at           TEXT NOT NULL
);
CREATE INDEX orders_by_user ON orders (user_id, id);

CREATE TABLE order_lines (
    order_id         INTEGER NOT NULL REFERENCES orders (id),
    line_no          INTEGER NOT NULL,
    sku              TEXT NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    line_total_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
