//! The checkout's state, shared by every screen through Leptos context
//! ([`Checkout::get`]) instead of signals passed from hand to hand.

use kasir_shared::Locale;
use kasir_shared::api::{AttemptRequest, Stage};
use kasir_shared::payment::{PaymentStatus, SessionStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Attempt, CallError, PageContext, Session};
use crate::i18n::{Texts, texts};

/// Everything the screens read and the one action they take (paying).
#[derive(Debug, Clone, Copy)]
pub struct Checkout {
    /// The page's language.
    pub locale: RwSignal<Locale>,
    /// The session as the widget API last showed it.
    pub session: RwSignal<Option<Session>>,
    /// The newest attempt known (the answer to our own request may be
    /// newer than the session view).
    pub attempt: RwSignal<Option<Attempt>>,
    /// The last failed call.
    pub error: RwSignal<Option<CallError>>,
    /// A payment request is on its way: the buttons are disabled.
    pub busy: RwSignal<bool>,
    /// The browser's clock (Unix seconds), ticking each second.
    pub now: RwSignal<i64>,
    /// Whether live updates (Server-Sent Events) are flowing.
    pub live: RwSignal<bool>,
    /// The shopper left a waiting QR, VA, wallet or 3DS to choose another
    /// method (the server voids the waiting one when the new one starts).
    pub switching: RwSignal<bool>,
    /// What the shopper can do now.
    pub stage: Memo<Option<Stage>>,
    /// The card's number, expiry and name as last sent (never the CVV), so
    /// a decline does not make the shopper type them again.
    pub card_draft: StoredValue<[String; 3]>,
    context: StoredValue<Option<PageContext>>,
}

impl Checkout {
    /// A new checkout for the page, in the browser's language until the
    /// session says otherwise.
    pub fn new(context: Option<PageContext>) -> Checkout {
        let browser = window().navigator().language().and_then(|tag| Locale::from_tag(&tag));
        let session = RwSignal::new(None::<Session>);
        let attempt = RwSignal::new(None::<Attempt>);
        let now = RwSignal::new(crate::components::now_secs());
        Checkout {
            locale: RwSignal::new(browser.unwrap_or_default()),
            session,
            attempt,
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
            now,
            live: RwSignal::new(false),
            switching: RwSignal::new(false),
            // One decision for every screen, from the session first and its
            // newest attempt second. A memo: a session pushed again with the
            // same content must not rebuild the form being typed in.
            stage: Memo::new(move |_| session.get().map(|s| s.stage(attempt.get().as_ref(), now.get()))),
            card_draft: StoredValue::new(Default::default()),
            context: StoredValue::new(context),
        }
    }

    /// The checkout of the page (provided by `App`).
    pub fn get() -> Checkout {
        expect_context::<Checkout>()
    }

    /// The page's context (API, session id, client secret), if it has one.
    pub fn page(&self) -> Option<PageContext> {
        self.context.get_value()
    }

    /// The texts in the current language (tracked).
    pub fn texts(&self) -> &'static Texts {
        texts(self.locale.get())
    }

    /// Whether messages are wanted in Bahasa Indonesia (untracked).
    pub fn indonesian(&self) -> bool {
        self.locale.get_untracked() == Locale::Id
    }

    /// Takes in a session view (load, live update, poll or "check status").
    /// Answers cross on the network, so a view older than what the page
    /// already knows is not allowed to take the shopper back: a session
    /// never leaves paid or closed, an attempt never leaves a final status,
    /// and one already asking for 3DS or showing a code is not `processing`
    /// again (the one-time 3DS page would be loaded twice and refused; a
    /// paid page would show the QR again, with its stream already closed).
    pub fn show(&self, session: Session) {
        let settled = |s: SessionStatus| {
            s.is_final() || matches!(s, SessionStatus::Succeeded | SessionStatus::PartiallyRefunded)
        };
        let stale_session = self.session.with_untracked(|current| {
            current.as_ref().is_some_and(|c| settled(c.status) && !settled(session.status))
        });
        if stale_session {
            return;
        }
        let incoming = session.latest_attempt.clone();
        let stale_attempt = self.attempt.with_untracked(|current| {
            matches!((current, &incoming), (Some(c), Some(i))
                if c.id == i.id
                    && ((c.status.is_final() && !i.status.is_final())
                        || (c.status == PaymentStatus::RequiresAction && i.status == PaymentStatus::Processing)))
        });
        if !stale_attempt {
            self.attempt.set(incoming);
        }
        self.session.set(Some(session));
    }

    /// The amount, formatted in rupiah (tracked).
    pub fn amount(&self) -> String {
        self.session.get().map(|s| s.amount.to_string()).unwrap_or_default()
    }

    /// The merchant's return link, when it is a web address (tracked).
    pub fn return_url(&self) -> Option<String> {
        self.session
            .get()
            .and_then(|s| s.return_url)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
    }

    /// Asks for the session now (the shopper's "check status").
    pub fn refresh(&self) {
        let Some(page) = self.page() else { return };
        let this = *self;
        spawn_local(async move {
            match api::session(&page, this.indonesian()).await {
                Ok(s) => this.show(s),
                Err(e) => this.error.set(Some(e)),
            }
        });
    }

    /// Sends the shopper's choice; the answer (or the error) lands in the state.
    pub fn pay(&self, request: AttemptRequest) {
        let Some(page) = self.page() else { return };
        if self.busy.get_untracked() {
            return;
        }
        let this = *self;
        this.busy.set(true);
        this.error.set(None);
        spawn_local(async move {
            match api::attempt(&page, &request, this.indonesian()).await {
                Ok(a) => {
                    this.switching.set(false);
                    // Paid: the card's details are needed no more.
                    if a.status == PaymentStatus::Succeeded {
                        this.card_draft.set_value(Default::default());
                    }
                    this.attempt.set(Some(a));
                }
                Err(e) => this.error.set(Some(e)),
            }
            this.busy.set(false);
        });
    }
}
