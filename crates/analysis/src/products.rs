//! The products (plan categories, or plan names) of a document's lines and
//! the publisher each is told as: what the data says, and what the user's
//! correction makes it.

use std::collections::{BTreeMap, BTreeSet};

use billing::{
    lines::LineTable,
    publisher::{Publishers, product_of, read},
    rows::LineRow,
};
use worker_protocol::{ProductRow, PublishersView};

#[derive(Default)]
pub(crate) struct Products {
    rows: BTreeMap<String, ProductRow>,
    publishers: BTreeSet<String>,
}

impl Products {
    pub fn add(&mut self, row: &LineRow<'_>, publishers: &Publishers) {
        let told = publishers.of(row.subscription, row.line);
        if let Some(publisher) = &told
            && !self.publishers.contains(publisher.as_ref())
        {
            self.publishers.insert(publisher.clone().into_owned());
        }
        let Some(product) = product_of(row.subscription) else { return };
        match self.rows.get_mut(product) {
            Some(known) => known.lines += 1,
            None => {
                let read = read(row.subscription, row.line).map(str::to_owned);
                let publisher = told.map(|publisher| publisher.into_owned());
                let product = product.to_owned();
                self.rows.insert(product.clone(), ProductRow { product, read, publisher, lines: 1 });
            }
        }
    }

    /// Every line of `table`, told its way.
    pub fn of_table(table: &LineTable) -> Self {
        let mut products = Self::default();
        (0..table.len()).for_each(|index| products.add(&table.row(index), table.publishers()));
        products
    }

    pub fn view(self) -> PublishersView {
        PublishersView {
            products: self.rows.into_values().collect(),
            publishers: self.publishers.into_iter().collect(),
        }
    }
}
