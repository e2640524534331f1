//! Per-bank steps to pay a virtual account (issue 19), one reviewed table. Sources:
//!
//! - Most banks: the payment guides that NICEPAY ships in its own plugins
//!   (github.com/nicepay-dev/woocommerce-nicepay, `nicepay_vav2/email/order_conf_*.php`, and its
//!   VA guide per bank, e.g. <https://docs.nicepay.co.id/en/va-bank-bjb>) and that Faspay ships in
//!   its own (github.com/faspay-team/prestashop `views/templates/front/payment_guide_*_va.tpl`,
//!   github.com/faspay-team/Woocommerce `guide.php`).
//! - BCA: <https://arsipdaftar.ubaya.ac.id/help/index.php?page=bayar> (ATM);
//!   <https://uusimmatuutiset.fi/blog/bca-virtual-account-payment-guide-1763078094777> (ATM, m-BCA,
//!   KlikBCA); <https://bca.co.id/en/bisnis/layanan/e-banking-bisnis/virtual-account> (channels).
//! - BNI: <https://docs.xendit.co/docs/bni-virtual-account>;
//!   <https://123dok.com/id/docs/cara-pembayaran-virtual-account-bni-va-pelbagai-kaedah.12309580>.
//! - BRI: <https://fr.scribd.com/document/331753345/Petunjuk-Pembayaran-BRIVA-pdf> (BRI's BRIVA guide
//!   for BRIngin Life); <https://teknokompi.com/melakukan-pembayaran-dengan-briva-di-internet-banking-bri/>.
//! - Mandiri: <https://www.bankmandiri.co.id/en/livin/edukasi/cara-bayar> (Livin', Bank Mandiri);
//!   <https://docs.xendit.co/docs/mandiri-virtual-account> (ATM, company code then number);
//!   <https://id.scribd.com/document/516964002/Cara-Bayar-PII> (ATM and Mandiri Online Multi Payment);
//!   NICEPAY's and Faspay's guides (Multi Payment; where no separate code is given, the company code
//!   is the number's first five digits).
//! - Permata: <https://docs.xendit.co/docs/permata-virtual-account>;
//!   <https://global.alipay.com/docs/ac/antomop/permata> (PermataMobile, Pay Bills).
//! - CIMB Niaga: NICEPAY's guide (`order_conf_cimb_niaga.php`: ATM, mobile, OCTO Clicks);
//!   <https://global.alipay.com/docs/ac/antomop/octo> (OCTO app: transfer to another CIMB Niaga account).
//! - Danamon: <https://www.danamon.co.id/D-Bank-PRO/Apps-RIP-D-Bank-PRO> (D-Bank PRO: one app and
//!   website, www.dbank.co.id, the app's token authorises web transactions);
//!   <https://www.danamon.co.id/en/E-Banking/Personal/D-Bank/Syarat-Ketentuan-dan-FAQ/FAQ-D-Bank>
//!   (virtual account payment under Payment); Faspay's and NICEPAY's guides (ATM).
//! - bank bjb: <https://docs.xendit.co/docs/bjb-virtual-account>; <https://docs.nicepay.co.id/en/va-bank-bjb>.
//! - Maybank: Faspay's and NICEPAY's guides (ATM, M2U, internet banking);
//!   <https://www.maybank.co.id/en/ebanking/syarat-dan-ketentuan-maybank2u> and
//!   <https://sbn.maybank.co.id/en/NewsAndAnnouncement/NewsAndAnnouncements/2024/11/19/04/39/Perubahan-Syarat-dan-Ketentuan-M2U-ID-App-atau-M2U-ID-Web>
//!   (M2U ID App / M2U ID Web, Secure2u).
//!
//! Where the sources disagree or only one names a menu, the step says less rather than guess
//! (e.g. "Pilih Pembayaran, lalu Virtual Account"). The last steps are always: check the name and
//! amount, confirm, keep the receipt.

use super::Bank;
use crate::Locale;

/// Where the shopper pays from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    /// The bank's ATM, with the bank's own card.
    Atm,
    /// The bank's mobile banking app.
    Mobile,
    /// The bank's internet banking website.
    Internet,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 3] = [Channel::Atm, Channel::Mobile, Channel::Internet];

    /// The channel's name shown as a heading.
    pub const fn label(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (Channel::Atm, _) => "ATM",
            (Channel::Mobile, Locale::Id) => "m-Banking",
            (Channel::Mobile, Locale::En) => "Mobile banking",
            (Channel::Internet, Locale::Id) => "Internet Banking",
            (Channel::Internet, Locale::En) => "Internet banking",
        }
    }
}

impl Bank {
    /// How to pay a virtual account at this bank through `channel`, step by step.
    ///
    /// The shopper's number is shown above the steps, which call it "the virtual account number".
    /// Mandiri bill payment shows a company (biller) code and a bill key instead; its steps say
    /// "the company code shown above" rather than a fixed code, since Kasir shows the code the
    /// provider gave.
    pub const fn va_steps(self, channel: Channel, locale: Locale) -> &'static [&'static str] {
        match (self, channel, locale) {
            (Bank::Bca, Channel::Atm, Locale::Id) => &[
                "Masukkan kartu ATM BCA dan PIN Anda.",
                "Pilih Transaksi Lainnya, lalu Transfer.",
                "Pilih Ke Rek BCA Virtual Account.",
                "Masukkan nomor virtual account, lalu pilih Benar.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, pilih Ya.",
                "Ambil kartu Anda dan simpan struk sebagai bukti pembayaran.",
            ],
            (Bank::Bca, Channel::Atm, Locale::En) => &[
                "Insert your BCA ATM card and enter your PIN.",
                "Choose Other Transactions (Transaksi Lainnya), then Transfer.",
                "Choose To BCA Virtual Account (Ke Rek BCA Virtual Account).",
                "Enter the virtual account number, then choose Correct (Benar).",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, choose Yes (Ya).",
                "Take your card and keep the receipt as proof of payment.",
            ],
            (Bank::Bca, Channel::Mobile, Locale::Id) => &[
                "Buka aplikasi BCA mobile, pilih m-BCA, lalu masukkan kode akses Anda.",
                "Pilih m-Transfer, lalu BCA Virtual Account.",
                "Masukkan nomor virtual account, lalu lanjutkan.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, pilih OK dan masukkan PIN m-BCA Anda.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Bca, Channel::Mobile, Locale::En) => &[
                "Open the BCA mobile app, choose m-BCA, and enter your access code.",
                "Choose m-Transfer, then BCA Virtual Account.",
                "Enter the virtual account number and continue.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, choose OK and enter your m-BCA PIN.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Bca, Channel::Internet, Locale::Id) => &[
                "Masuk ke KlikBCA dengan User ID dan PIN Anda.",
                "Pilih Transfer Dana, lalu Transfer ke BCA Virtual Account.",
                "Masukkan nomor virtual account, lalu pilih Lanjutkan.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, masukkan respons KeyBCA, lalu pilih Kirim.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Bca, Channel::Internet, Locale::En) => &[
                "Log in to KlikBCA with your User ID and PIN.",
                "Choose Transfer Dana (Fund Transfer), then Transfer ke BCA Virtual Account.",
                "Enter the virtual account number, then choose Lanjutkan (Continue).",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, enter your KeyBCA response, then choose Kirim (Send).",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Bni, Channel::Atm, Locale::Id) => &[
                "Masukkan kartu ATM BNI, pilih bahasa, lalu masukkan PIN Anda.",
                "Pilih Menu Lainnya, lalu Transfer.",
                "Pilih jenis rekening sumber, misalnya Rekening Tabungan.",
                "Pilih Virtual Account Billing, lalu masukkan nomor virtual account.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, konfirmasi transaksi.",
                "Ambil kartu Anda dan simpan struk sebagai bukti pembayaran.",
            ],
            (Bank::Bni, Channel::Atm, Locale::En) => &[
                "Insert your BNI ATM card, choose a language, and enter your PIN.",
                "Choose Other Menu (Menu Lainnya), then Transfer.",
                "Choose the account type to pay from, for example Savings (Tabungan).",
                "Choose Virtual Account Billing, then enter the virtual account number.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, confirm the transaction.",
                "Take your card and keep the receipt as proof of payment.",
            ],
            (Bank::Bni, Channel::Mobile, Locale::Id) => &[
                "Buka aplikasi BNI Mobile Banking, lalu masuk dengan user ID dan password Anda.",
                "Pilih Transfer, lalu Virtual Account Billing.",
                "Pilih rekening debet, lalu masukkan nomor virtual account.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, masukkan password transaksi untuk konfirmasi.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Bni, Channel::Mobile, Locale::En) => &[
                "Open the BNI Mobile Banking app and log in with your user ID and password.",
                "Choose Transfer, then Virtual Account Billing.",
                "Choose the account to debit, then enter the virtual account number.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, enter your transaction password to confirm.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Bni, Channel::Internet, Locale::Id) => &[
                "Buka ibank.bni.co.id, lalu masuk dengan user ID dan password Anda.",
                "Pilih Transfer, lalu Virtual Account Billing.",
                "Masukkan nomor virtual account, lalu pilih rekening debet.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, masukkan kode otentikasi token.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Bni, Channel::Internet, Locale::En) => &[
                "Go to ibank.bni.co.id and log in with your user ID and password.",
                "Choose Transfer, then Virtual Account Billing.",
                "Enter the virtual account number, then choose the account to debit.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, enter the authentication code from your token.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Bri, Channel::Atm, Locale::Id) => &[
                "Masukkan kartu ATM BRI dan PIN Anda.",
                "Pilih Transaksi Lain, lalu Pembayaran.",
                "Pilih Lainnya, lalu BRIVA.",
                "Masukkan nomor virtual account, lalu pilih Benar.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, pilih Ya.",
                "Ambil kartu Anda dan simpan struk sebagai bukti pembayaran.",
            ],
            (Bank::Bri, Channel::Atm, Locale::En) => &[
                "Insert your BRI ATM card and enter your PIN.",
                "Choose Other Transactions (Transaksi Lain), then Payment (Pembayaran).",
                "Choose Others (Lainnya), then BRIVA.",
                "Enter the virtual account number, then choose Correct (Benar).",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, choose Yes (Ya).",
                "Take your card and keep the receipt as proof of payment.",
            ],
            (Bank::Bri, Channel::Mobile, Locale::Id) => &[
                "Buka aplikasi BRImo dan masuk ke akun Anda.",
                "Pilih menu BRIVA.",
                "Masukkan nomor virtual account, lalu lanjutkan.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, masukkan PIN BRImo Anda untuk konfirmasi.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Bri, Channel::Mobile, Locale::En) => &[
                "Open the BRImo app and log in.",
                "Choose the BRIVA menu.",
                "Enter the virtual account number and continue.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, enter your BRImo PIN to confirm.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Bri, Channel::Internet, Locale::Id) => &[
                "Masuk ke Internet Banking BRI (ib.bri.co.id) dengan user ID dan password Anda.",
                "Pilih Pembayaran, lalu BRIVA.",
                "Masukkan nomor virtual account, lalu kirim.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, masukkan password dan kode mToken Anda.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Bri, Channel::Internet, Locale::En) => &[
                "Log in to BRI Internet Banking (ib.bri.co.id) with your user ID and password.",
                "Choose Payment (Pembayaran), then BRIVA.",
                "Enter the virtual account number and send it.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, enter your password and mToken code.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Mandiri, Channel::Atm, Locale::Id) => &[
                "Masukkan kartu ATM Mandiri dan PIN Anda.",
                "Pilih Bayar/Beli, lalu Multi Payment; jika belum terlihat, pilih Lainnya dulu.",
                "Masukkan kode perusahaan yang tertera di atas (jika tidak ada, 5 angka pertama nomor virtual account), lalu pilih Benar.",
                "Masukkan kode bayar atau nomor virtual account yang tertera di atas, lalu pilih Benar.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, pilih tagihan yang tampil, lalu pilih Ya.",
                "Ambil kartu Anda dan simpan struk sebagai bukti pembayaran.",
            ],
            (Bank::Mandiri, Channel::Atm, Locale::En) => &[
                "Insert your Mandiri ATM card and enter your PIN.",
                "Choose Pay/Buy (Bayar/Beli), then Multi Payment; if it is not shown, choose Others (Lainnya) first.",
                "Enter the company code shown above (if there is none, the first 5 digits of the virtual account number), then choose Correct (Benar).",
                "Enter the bill key or virtual account number shown above, then choose Correct (Benar).",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, select the bill shown, then choose Yes (Ya).",
                "Take your card and keep the receipt as proof of payment.",
            ],
            (Bank::Mandiri, Channel::Mobile, Locale::Id) => &[
                "Buka aplikasi Livin' by Mandiri dan masuk ke akun Anda.",
                "Pilih menu Bayar/VA di halaman utama.",
                "Di kolom pencarian, ketik kode perusahaan yang tertera di atas (jika tidak ada, nomor virtual account), lalu pilih penyedia jasanya.",
                "Jika diminta, masukkan kode bayar atau nomor virtual account yang tertera di atas, lalu lanjutkan.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, konfirmasi pembayaran dan masukkan PIN Livin' Anda.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Mandiri, Channel::Mobile, Locale::En) => &[
                "Open the Livin' by Mandiri app and log in.",
                "Choose the Pay/VA (Bayar/VA) menu on the home screen.",
                "In the search field, type the company code shown above (if there is none, the virtual account number), then select the service provider.",
                "If asked, enter the bill key or virtual account number shown above, then continue.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, confirm the payment and enter your Livin' PIN.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Mandiri, Channel::Internet, Locale::Id) => &[
                "Masuk ke internet banking Mandiri dengan user ID dan password Anda.",
                "Pilih Bayar, lalu Multi Payment.",
                "Pilih penyedia jasa sesuai kode perusahaan yang tertera di atas (jika tidak ada, 5 angka pertama nomor virtual account).",
                "Masukkan kode bayar atau nomor virtual account yang tertera di atas, lalu lanjutkan.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, konfirmasi dengan token atau PIN yang diminta.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Mandiri, Channel::Internet, Locale::En) => &[
                "Log in to Mandiri internet banking with your user ID and password.",
                "Choose Pay (Bayar), then Multi Payment.",
                "Choose the service provider matching the company code shown above (if there is none, the first 5 digits of the virtual account number).",
                "Enter the bill key or virtual account number shown above, then continue.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, confirm with the token or PIN asked for.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Permata, Channel::Atm, Locale::Id) => &[
                "Masukkan kartu ATM Permata dan PIN Anda.",
                "Pilih Transaksi Lainnya, lalu Pembayaran.",
                "Pilih Pembayaran Lainnya, lalu Virtual Account.",
                "Masukkan nomor virtual account, lalu pilih Benar.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, pilih rekening sumber dana, lalu pilih Ya.",
                "Ambil kartu Anda dan simpan struk sebagai bukti pembayaran.",
            ],
            (Bank::Permata, Channel::Atm, Locale::En) => &[
                "Insert your Permata ATM card and enter your PIN.",
                "Choose Other Transactions (Transaksi Lainnya), then Payment (Pembayaran).",
                "Choose Other Payments (Pembayaran Lainnya), then Virtual Account.",
                "Enter the virtual account number, then choose Correct (Benar).",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, choose the account to pay from, then choose Yes (Ya).",
                "Take your card and keep the receipt as proof of payment.",
            ],
            (Bank::Permata, Channel::Mobile, Locale::Id) => &[
                "Buka aplikasi PermataMobile X dan masuk ke akun Anda.",
                "Pilih Pembayaran Tagihan, lalu Virtual Account.",
                "Masukkan nomor virtual account.",
                "Jika diminta, masukkan jumlah yang sama persis dengan tagihan di atas.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, konfirmasi dengan token atau PIN yang diminta.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Permata, Channel::Mobile, Locale::En) => &[
                "Open the PermataMobile X app and log in.",
                "Choose Bill Payment (Pembayaran Tagihan), then Virtual Account.",
                "Enter the virtual account number.",
                "If asked, enter exactly the amount of the bill above.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, confirm with the token or PIN asked for.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Permata, Channel::Internet, Locale::Id) => &[
                "Masuk ke PermataNet dengan user ID dan password Anda.",
                "Pilih Pembayaran Tagihan, lalu Virtual Account.",
                "Masukkan nomor virtual account.",
                "Jika diminta, masukkan jumlah yang sama persis dengan tagihan di atas.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, masukkan kode token yang diminta.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Permata, Channel::Internet, Locale::En) => &[
                "Log in to PermataNet with your user ID and password.",
                "Choose Bill Payment (Pembayaran Tagihan), then Virtual Account.",
                "Enter the virtual account number.",
                "If asked, enter exactly the amount of the bill above.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, enter the token code asked for.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Cimb, Channel::Atm, Locale::Id) => &[
                "Masukkan kartu ATM CIMB Niaga dan PIN Anda.",
                "Pilih Pembayaran, lalu Virtual Account; jika belum terlihat, pilih Lanjut dulu.",
                "Masukkan nomor virtual account, lalu pilih Proses.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, pilih Proses untuk membayar.",
                "Ambil kartu Anda dan simpan struk sebagai bukti pembayaran.",
            ],
            (Bank::Cimb, Channel::Atm, Locale::En) => &[
                "Insert your CIMB Niaga ATM card and enter your PIN.",
                "Choose Payment (Pembayaran), then Virtual Account; if it is not shown, choose Next (Lanjut) first.",
                "Enter the virtual account number, then choose Process (Proses).",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, choose Process (Proses) to pay.",
                "Take your card and keep the receipt as proof of payment.",
            ],
            (Bank::Cimb, Channel::Mobile, Locale::Id) => &[
                "Buka aplikasi OCTO Mobile dan masuk ke akun Anda.",
                "Pilih Transfer, lalu transfer ke rekening CIMB Niaga lain.",
                "Pilih rekening sumber, lalu masukkan nomor virtual account sebagai rekening tujuan.",
                "Jika diminta, masukkan jumlah yang sama persis dengan tagihan di atas.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, konfirmasi dengan PIN Anda.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Cimb, Channel::Mobile, Locale::En) => &[
                "Open the OCTO Mobile app and log in.",
                "Choose Transfer, then transfer to another CIMB Niaga account.",
                "Choose the account to pay from, then enter the virtual account number as the destination account.",
                "If asked, enter exactly the amount of the bill above.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, confirm with your PIN.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Cimb, Channel::Internet, Locale::Id) => &[
                "Masuk ke OCTO Clicks dengan user ID dan password Anda.",
                "Pilih Bayar Tagihan, lalu jenis pembayaran Virtual Account.",
                "Pilih rekening sumber, lalu masukkan nomor virtual account.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, masukkan mPIN atau token yang diminta.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Cimb, Channel::Internet, Locale::En) => &[
                "Log in to OCTO Clicks with your user ID and password.",
                "Choose Bill Payment (Bayar Tagihan), then the Virtual Account payment type.",
                "Choose the account to pay from, then enter the virtual account number.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, enter the mPIN or token asked for.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Danamon, Channel::Atm, Locale::Id) => &[
                "Masukkan kartu ATM Danamon dan PIN Anda.",
                "Pilih Pembayaran, lalu Lainnya, lalu Virtual Account.",
                "Masukkan nomor virtual account, lalu pilih Benar.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, pilih Ya.",
                "Ambil kartu Anda dan simpan struk sebagai bukti pembayaran.",
            ],
            (Bank::Danamon, Channel::Atm, Locale::En) => &[
                "Insert your Danamon ATM card and enter your PIN.",
                "Choose Payment (Pembayaran), then Others (Lainnya), then Virtual Account.",
                "Enter the virtual account number, then choose Correct (Benar).",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, choose Yes (Ya).",
                "Take your card and keep the receipt as proof of payment.",
            ],
            (Bank::Danamon, Channel::Mobile, Locale::Id) => &[
                "Buka aplikasi D-Bank PRO dan masuk ke akun Anda.",
                "Pilih Pembayaran, lalu Virtual Account.",
                "Masukkan nomor virtual account, lalu lanjutkan.",
                "Jika diminta, masukkan jumlah yang sama persis dengan tagihan di atas.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, konfirmasi dengan PIN atau kode yang diminta.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Danamon, Channel::Mobile, Locale::En) => &[
                "Open the D-Bank PRO app and log in.",
                "Choose Payment (Pembayaran), then Virtual Account.",
                "Enter the virtual account number and continue.",
                "If asked, enter exactly the amount of the bill above.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, confirm with the PIN or code asked for.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Danamon, Channel::Internet, Locale::Id) => &[
                "Buka D-Bank PRO versi web di www.dbank.co.id, lalu masuk ke akun Anda.",
                "Pilih Pembayaran, lalu Virtual Account.",
                "Masukkan nomor virtual account, lalu lanjutkan.",
                "Jika diminta, masukkan jumlah yang sama persis dengan tagihan di atas.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, setujui transaksi dengan token di aplikasi D-Bank PRO.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Danamon, Channel::Internet, Locale::En) => &[
                "Open the web version of D-Bank PRO at www.dbank.co.id and log in.",
                "Choose Payment (Pembayaran), then Virtual Account.",
                "Enter the virtual account number and continue.",
                "If asked, enter exactly the amount of the bill above.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, approve the transaction with the token in the D-Bank PRO app.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Bjb, Channel::Atm, Locale::Id) => &[
                "Masukkan kartu ATM bank bjb dan PIN Anda.",
                "Pilih Transaksi Lainnya, lalu Virtual Account.",
                "Pilih jenis rekening, misalnya Tabungan.",
                "Masukkan nomor virtual account, lalu pilih Lanjutkan.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, pilih Ya.",
                "Ambil kartu Anda dan simpan struk sebagai bukti pembayaran.",
            ],
            (Bank::Bjb, Channel::Atm, Locale::En) => &[
                "Insert your bank bjb ATM card and enter your PIN.",
                "Choose Other Transactions (Transaksi Lainnya), then Virtual Account.",
                "Choose the account type, for example Savings (Tabungan).",
                "Enter the virtual account number, then choose Continue (Lanjutkan).",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, choose Yes (Ya).",
                "Take your card and keep the receipt as proof of payment.",
            ],
            (Bank::Bjb, Channel::Mobile, Locale::Id) => &[
                "Buka aplikasi mobile banking bank bjb dan masuk ke akun Anda.",
                "Pilih menu Virtual Account.",
                "Pilih rekening sumber, lalu masukkan nomor virtual account.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, masukkan PIN Anda, lalu pilih Lanjutkan.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Bjb, Channel::Mobile, Locale::En) => &[
                "Open the bank bjb mobile banking app and log in.",
                "Choose the Virtual Account menu.",
                "Choose the account to pay from, then enter the virtual account number.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, enter your PIN, then choose Continue (Lanjutkan).",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Bjb, Channel::Internet, Locale::Id) => &[
                "Masuk ke bjb NET dengan user ID dan password Anda.",
                "Pilih menu Virtual Account.",
                "Pilih rekening sumber, lalu masukkan nomor virtual account.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, konfirmasi transaksi.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Bjb, Channel::Internet, Locale::En) => &[
                "Log in to bjb NET with your user ID and password.",
                "Choose the Virtual Account menu.",
                "Choose the account to pay from, then enter the virtual account number.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, confirm the transaction.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Maybank, Channel::Atm, Locale::Id) => &[
                "Masukkan kartu ATM Maybank dan PIN Anda.",
                "Pilih Pembayaran/Top Up Pulsa, lalu Virtual Account.",
                "Masukkan nomor virtual account, lalu pilih Benar.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, pilih Ya.",
                "Ambil kartu Anda dan simpan struk sebagai bukti pembayaran.",
            ],
            (Bank::Maybank, Channel::Atm, Locale::En) => &[
                "Insert your Maybank ATM card and enter your PIN.",
                "Choose Payment/Top Up (Pembayaran/Top Up Pulsa), then Virtual Account.",
                "Enter the virtual account number, then choose Correct (Benar).",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, choose Yes (Ya).",
                "Take your card and keep the receipt as proof of payment.",
            ],
            (Bank::Maybank, Channel::Mobile, Locale::Id) => &[
                "Buka aplikasi M2U ID App dan masuk ke akun Anda.",
                "Pilih Transfer, lalu Virtual Account.",
                "Pilih rekening sumber, lalu masukkan nomor virtual account.",
                "Jika diminta, masukkan jumlah yang sama persis dengan tagihan di atas.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, konfirmasi dengan Secure2u atau kode TAC yang diminta.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Maybank, Channel::Mobile, Locale::En) => &[
                "Open the M2U ID App and log in.",
                "Choose Transfer, then Virtual Account.",
                "Choose the account to pay from, then enter the virtual account number.",
                "If asked, enter exactly the amount of the bill above.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, confirm with Secure2u or the TAC code asked for.",
                "Keep the transaction receipt shown on screen.",
            ],
            (Bank::Maybank, Channel::Internet, Locale::Id) => &[
                "Masuk ke M2U ID Web dengan user ID dan password Anda.",
                "Pilih menu Maybank Virtual Account.",
                "Pilih rekening sumber, lalu masukkan nomor virtual account.",
                "Jika diminta, masukkan jumlah yang sama persis dengan tagihan di atas.",
                "Pastikan nama dan jumlah yang tampil sesuai dengan tagihan di atas.",
                "Jika sudah sesuai, konfirmasi dengan Secure2u atau kode TAC yang diminta.",
                "Simpan bukti transaksi yang tampil di layar.",
            ],
            (Bank::Maybank, Channel::Internet, Locale::En) => &[
                "Log in to M2U ID Web with your user ID and password.",
                "Choose the Maybank Virtual Account menu.",
                "Choose the account to pay from, then enter the virtual account number.",
                "If asked, enter exactly the amount of the bill above.",
                "Check that the name and amount shown match the bill above.",
                "If everything matches, confirm with Secure2u or the TAC code asked for.",
                "Keep the transaction receipt shown on screen.",
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bank_and_channel_has_three_to_eight_steps_in_both_languages() {
        for &bank in Bank::ALL {
            for channel in Channel::ALL {
                let id = bank.va_steps(channel, Locale::Id);
                let en = bank.va_steps(channel, Locale::En);
                assert_eq!(id.len(), en.len(), "{bank:?} {channel:?}: Id and En differ in length");
                for steps in [id, en] {
                    assert!((3..=8).contains(&steps.len()), "{bank:?} {channel:?}: {} steps", steps.len());
                    for step in steps {
                        assert!(!step.trim().is_empty(), "{bank:?} {channel:?}: empty step");
                        assert!(step.ends_with('.'), "{bank:?} {channel:?}: {step:?} lacks a period");
                    }
                }
            }
        }
    }

    #[test]
    fn channel_labels_are_not_empty() {
        for channel in Channel::ALL {
            for locale in [Locale::Id, Locale::En] {
                assert!(!channel.label(locale).is_empty());
            }
        }
    }

    #[test]
    fn mandiri_refers_to_the_company_code_shown_and_no_step_hard_codes_one() {
        for channel in Channel::ALL {
            let id = Bank::Mandiri.va_steps(channel, Locale::Id);
            let en = Bank::Mandiri.va_steps(channel, Locale::En);
            assert!(id.iter().any(|s| s.contains("kode perusahaan")), "{channel:?}");
            assert!(en.iter().any(|s| s.contains("company code")), "{channel:?}");
        }
        for &bank in Bank::ALL {
            for channel in Channel::ALL {
                for locale in [Locale::Id, Locale::En] {
                    for step in bank.va_steps(channel, locale) {
                        assert!(!step.contains("70012"), "{bank:?} {channel:?}: {step:?}");
                    }
                }
            }
        }
    }
}
