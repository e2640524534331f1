//! Payment methods, banks and wallets.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ValidationError, reject};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $code:expr, { $($(#[$vmeta:meta])* $variant:ident => $wire:literal, $label:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable wire name.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)* }
            }

            /// The name shown to a shopper.
            pub const fn display_name(self) -> &'static str {
                match self { $($name::$variant => $label,)* }
            }

            /// Parses the wire name (case-insensitive).
            pub fn parse(input: &str) -> Result<$name, ValidationError> {
                let s = input.trim();
                $(if s.eq_ignore_ascii_case($wire) { return Ok($name::$variant); })*
                reject($code)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $name::parse(&s)
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str {
                v.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // Written by hand: the derive would not see the wire names, which
        // the parser above is the only source of.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::openapi::string_enum(&[$($wire),*])
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

wire_enum!(
    /// The kind of method a session allows, without its details.
    PaymentMethodKind, ErrorCode::PaymentMethodUnknown, {
        /// Credit or debit card.
        Card => "card", "Kartu kredit/debit";
        /// QRIS, paid from any Indonesian banking or wallet app.
        Qris => "qris", "QRIS";
        /// Bank transfer to a virtual account.
        VirtualAccount => "virtual_account", "Virtual Account";
        /// E-wallet (DANA, OVO, ...).
        Ewallet => "ewallet", "E-Wallet";
        /// Cash at a convenience store's till (Indomaret, Alfamart) with a payment code.
        ConvenienceStore => "convenience_store", "Indomaret / Alfamart";
    }
);

wire_enum!(
    /// A convenience-store chain whose tills take payment codes.
    Store, ErrorCode::StoreUnknown, {
        /// Indomaret.
        Indomaret => "indomaret", "Indomaret";
        /// Alfamart (and its Alfamidi and Dan+Dan stores).
        Alfamart => "alfamart", "Alfamart";
    }
);

impl Store {
    /// How to pay a code at this chain's till, step by step.
    pub const fn steps(self, locale: crate::Locale) -> &'static [&'static str] {
        use crate::Locale;
        match (self, locale) {
            (Store::Indomaret, Locale::Id) => &[
                "Datang ke gerai Indomaret terdekat.",
                "Katakan kepada kasir bahwa Anda ingin membayar tagihan belanja online.",
                "Tunjukkan kode pembayaran ini kepada kasir.",
                "Bayar tunai sesuai jumlah, termasuk biaya admin gerai jika ada.",
                "Simpan struk sebagai bukti pembayaran.",
            ],
            (Store::Indomaret, Locale::En) => &[
                "Go to the nearest Indomaret store.",
                "Tell the cashier you want to pay for an online purchase.",
                "Show the cashier this payment code.",
                "Pay the amount in cash, plus the store's fee if there is one.",
                "Keep the receipt as proof of payment.",
            ],
            (Store::Alfamart, Locale::Id) => &[
                "Datang ke gerai Alfamart, Alfamidi atau Dan+Dan terdekat.",
                "Katakan kepada kasir bahwa Anda ingin membayar tagihan belanja online.",
                "Tunjukkan kode pembayaran ini kepada kasir.",
                "Bayar tunai sesuai jumlah, termasuk biaya admin gerai jika ada.",
                "Simpan struk sebagai bukti pembayaran.",
            ],
            (Store::Alfamart, Locale::En) => &[
                "Go to the nearest Alfamart, Alfamidi or Dan+Dan store.",
                "Tell the cashier you want to pay for an online purchase.",
                "Show the cashier this payment code.",
                "Pay the amount in cash, plus the store's fee if there is one.",
                "Keep the receipt as proof of payment.",
            ],
        }
    }
}

wire_enum!(
    /// A bank that issues virtual accounts.
    Bank, ErrorCode::BankUnknown, {
        /// Bank Central Asia.
        Bca => "bca", "BCA";
        /// Bank Negara Indonesia.
        Bni => "bni", "BNI";
        /// Bank Rakyat Indonesia.
        Bri => "bri", "BRI";
        /// Bank Mandiri.
        Mandiri => "mandiri", "Mandiri";
        /// Bank Permata.
        Permata => "permata", "Permata";
        /// CIMB Niaga.
        Cimb => "cimb", "CIMB Niaga";
        /// Bank Danamon.
        Danamon => "danamon", "Danamon";
        /// Bank BJB.
        Bjb => "bjb", "BJB";
        /// Maybank Indonesia.
        Maybank => "maybank", "Maybank";
    }
);

wire_enum!(
    /// An e-wallet.
    Wallet, ErrorCode::WalletUnknown, {
        /// DANA.
        Dana => "dana", "DANA";
        /// OVO (needs the shopper's phone number).
        Ovo => "ovo", "OVO";
        /// GoPay.
        Gopay => "gopay", "GoPay";
        /// ShopeePay.
        Shopeepay => "shopeepay", "ShopeePay";
        /// LinkAja.
        Linkaja => "linkaja", "LinkAja";
    }
);

impl Wallet {
    /// Whether the wallet needs the shopper's phone number to start a payment.
    pub const fn needs_phone(self) -> bool {
        match self {
            Wallet::Ovo => true,
            Wallet::Dana | Wallet::Gopay | Wallet::Shopeepay | Wallet::Linkaja => false,
        }
    }
}

/// A payment method with the details that pick the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentMethod {
    /// Card.
    Card,
    /// QRIS.
    Qris,
    /// Virtual account at a bank.
    VirtualAccount(Bank),
    /// E-wallet.
    EWallet(Wallet),
    /// Cash with a payment code at a convenience store.
    ConvenienceStore(Store),
}

impl PaymentMethod {
    /// The method without its details.
    pub const fn kind(self) -> PaymentMethodKind {
        match self {
            PaymentMethod::Card => PaymentMethodKind::Card,
            PaymentMethod::Qris => PaymentMethodKind::Qris,
            PaymentMethod::VirtualAccount(_) => PaymentMethodKind::VirtualAccount,
            PaymentMethod::EWallet(_) => PaymentMethodKind::Ewallet,
            PaymentMethod::ConvenienceStore(_) => PaymentMethodKind::ConvenienceStore,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_unknowns_are_rejected() {
        for k in PaymentMethodKind::ALL {
            assert_eq!(PaymentMethodKind::parse(k.as_str()), Ok(*k));
            let json = serde_json::to_string(k).unwrap();
            assert_eq!(serde_json::from_str::<PaymentMethodKind>(&json).unwrap(), *k);
        }
        for b in Bank::ALL {
            assert_eq!(Bank::parse(&b.as_str().to_uppercase()), Ok(*b));
        }
        assert_eq!(PaymentMethodKind::parse("cash").unwrap_err().code(), "payment_method.unknown");
        assert_eq!(Bank::parse("hsbc").unwrap_err().code(), "bank.unknown");
        assert_eq!(Wallet::parse("paypal").unwrap_err().code(), "wallet.unknown");
        assert!(serde_json::from_str::<Wallet>("\"paypal\"").is_err());
        assert!(Wallet::Ovo.needs_phone() && !Wallet::Dana.needs_phone());
        assert_eq!(PaymentMethod::VirtualAccount(Bank::Bca).kind(), PaymentMethodKind::VirtualAccount);
        assert_eq!(Store::parse("Indomaret"), Ok(Store::Indomaret));
        assert_eq!(Store::parse("lawson").unwrap_err().code(), "store.unknown");
        for store in Store::ALL {
            for locale in [crate::Locale::Id, crate::Locale::En] {
                assert!(store.steps(locale).len() >= 3);
            }
            assert_ne!(store.steps(crate::Locale::Id), store.steps(crate::Locale::En));
        }
    }
}
